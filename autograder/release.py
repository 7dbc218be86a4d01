"""``autograder release``: student versions through nbgrader's generate_assignment."""

from __future__ import annotations

from .course import Course, UserError


def nbgrader_api(course: Course):
    """An ``NbGraderAPI`` on the course directory with its nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from .course import ensure_tools_on_path

    ensure_tools_on_path()
    config = Config()
    config.merge(course.config)
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.db_url = course.db_url
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def release(course: Course, names=None, log=print) -> list[str]:
    """Generate ``release/<name>/<name>.ipynb`` (and the gradebook entries).

    Parameters
    ----------
    course : Course
    names : list of str, optional
        Assignments; default all of the course's.

    Returns
    -------
    list of str
        Paths of the student versions written.

    With per-student variants on for an assignment (``c.Autograder.variants``),
    the class seed is written into the student version's parameters call
    (:func:`autograder.variants.add_seed`; why there: see that module).

    Raises
    ------
    UserError
        Unknown assignment, nbgrader failure, a hidden test that leaked
        into a student version, or variants on for a notebook without a
        parameters call.
    """
    from .spec import spec_for
    from .variants import add_seed, seed_for

    names = list(names) if names else course.assignments()
    if not names:
        raise UserError(f"no assignments in {course.source_dir}")
    for name in names:
        course.check_assignment(name)
    api = nbgrader_api(course)
    written = []
    for name in names:
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            last = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()[-1:]
            raise UserError(f"nbgrader generate_assignment {name} failed: {' '.join(last)}")
        path = course.release_dir / name / f"{name}.ipynb"
        text = path.read_text("utf-8")
        spec = spec_for(course, name)
        leaked = [line for line in spec.hidden_lines if "HIDDEN TESTS" not in line and line in text]
        if leaked:
            raise UserError(f"hidden test text leaked into {path}: {leaked[0][:60]!r}")
        seed = seed_for(course.config, name)
        if seed and not add_seed(path, name, seed):
            raise UserError(f"variants are on for {name}, but its notebook has no line "
                            f'P = factordata.assignment_parameters("{name}", STUDENT_ID)')
        written.append(str(path))
        log(f"released {name}{' (per-student variants)' if seed else ''}: {path}")
    return written
