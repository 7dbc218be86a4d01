"""``autograder grade ASSIGNMENT``: the whole class, in parallel, resumable.

* Work is split over ``--jobs`` worker processes (default: the number of
  cores). Each worker grades one submission at a time: the student's code
  runs in a box of its own (:mod:`autograder.sandbox`, a fresh uid for every
  box, never reused in the batch), and the worker judges the answers that
  come back as plain data (:mod:`autograder.judge`), with the reference
  computations cached across the submissions it grades.
* A worker writes its student's results itself, each file atomically, the
  small result file last: ``autograded/<student>/<assignment>/<assignment>.ipynb``
  (nbgrader's place, for formgrader), ``feedback/<student>/<assignment>/
  <assignment>.html`` and ``autograded/<student>/<assignment>/.autograder.json``
  (scores, messages, flags, the SHA-256 of the submission and a key of the
  source notebook and limits). A batch killed half-way therefore keeps what
  it finished; a rerun reuses every result whose submission, source and
  limits are unchanged (``--force`` regrades all).
* Only the main process writes the gradebook (nbgrader's ``Gradebook`` API,
  one writer, so SQLite never sees concurrent writers); formgrader then shows
  every submission for the written answers.
* Then ``reports/<assignment>/grades.csv``, ``summary.txt`` (also printed)
  and ``summary.png`` are made from all result files (:mod:`autograder.report`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .collect import atomic_write
from .course import Course, UserError

RESULT_FILE = ".autograder.json"

# ---- worker side ------------------------------------------------------------
_W = {}


def _worker_init(course_root, name, limits, config, sandbox, deadlines):
    import warnings

    # nbformat warns about repaired cell ids in students' files; the notes
    # in the result say what matters.
    warnings.filterwarnings("ignore", module="nbformat")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from .spec import load_spec

    course = Course(course_root)
    _W.update(course=course, name=name, limits=limits, config=config, sandbox=sandbox, deadlines=deadlines,
              spec=load_spec(course.source_notebook(name), name, config))
    # The judge's imports (the reference module) while the box server warms up.
    from .grading import warm_judge

    warm_judge()


def _grade_one(student: str, path: str | None, note: str | None, uid_first: int) -> dict:
    """Grade one student's submission in a worker; write and return its result.

    ``uid_first``: the first of this submission's block of uids (one per
    box, restarts included).
    """
    from .feedback import render_feedback
    from .grading import cache_key, grade_notebook, invalid_result

    course, name, spec, limits = _W["course"], _W["name"], _W["spec"], _W["limits"]
    out_dir = course.autograded_dir / student / name
    if path is None:
        result = invalid_result(spec, note or "no notebook submitted", "", cache_key(spec, limits), student)
        result.status = "missing"
        nb = None
    else:
        uids = iter(range(uid_first, uid_first + UIDS_PER_SUBMISSION))
        try:
            raw = read_capped(Path(path), limits.max_submission_mb)
            result, nb = grade_notebook(raw, spec, limits, config=_W["config"], sandbox=_W["sandbox"],
                                        new_uid=uids.__next__, student=student)
        except Exception as exc:  # a grader bug must not stop the batch
            result = invalid_result(spec, f"grader error: {type(exc).__name__}: {exc}", "",
                                    cache_key(spec, limits), student)
            result.status = "error"
            nb = None
        if note:
            result.notes.insert(0, note)
            result.flags.insert(0, note)
    result.student = student
    from .deadlines import lateness

    try:
        late = lateness(course, _W["deadlines"], student, result.score) if _W.get("deadlines") else None
    except Exception as exc:  # a deadline problem must not lose the grade
        late = None
        result.notes.append(f"late penalty not computed: {type(exc).__name__}: {exc}")
    fb_path = course.feedback_dir / student / name / f"{name}.html"
    if nb is not None:
        import nbformat

        atomic_write(out_dir / f"{name}.ipynb", nbformat.writes(nb).encode("utf-8", "surrogateescape"))
        stamp = Path(path).parent / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink():
            atomic_write(out_dir / "timestamp.txt", read_capped(stamp, 0.001))
    try:
        if nb is None:
            import nbformat

            nb = nbformat.v4.new_notebook()
        atomic_write(fb_path, render_feedback(nb, result, spec, late=late).encode("utf-8", "replace"))
    except Exception as exc:
        result.notes.append(f"feedback not written: {type(exc).__name__}: {exc}")
    data = result.to_json()
    if late:
        data["late"] = late
    atomic_write(out_dir / RESULT_FILE, json.dumps(data, indent=1, sort_keys=True).encode("utf-8", "replace"))
    return data


#: Boxes one submission may use (the first run and its restarts).
UIDS_PER_SUBMISSION = 16


def read_capped(path: Path, max_mb: float) -> bytes:
    """Read a submitted file without following a symlink, up to ``max_mb`` (+1 byte)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        cap = int(max_mb * 2**20) + 1
        chunks, size = [], 0
        while size < cap:
            chunk = os.read(fd, min(1 << 20, cap - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


# ---- main side --------------------------------------------------------------
def find_submissions(course: Course, name: str) -> list[tuple[str, str | None, str | None]]:
    """(student, notebook path or None, note) for every submitted folder."""
    out = []
    if not course.submitted_dir.is_dir():
        return out
    for student_dir in sorted(course.submitted_dir.iterdir()):
        folder = student_dir / name
        student = student_dir.name
        if not usable_id(student):
            # Not UTF-8 (undecodable bytes) or control characters: graded under
            # a cleaned id that the gradebook and the reports can store.
            from .text import one_line

            student = one_line(student.encode("utf-8", "surrogateescape").decode("utf-8", "replace")).lstrip(".")
            student = student or "unnamed"
        if student_dir.is_symlink() or folder.is_symlink() or not folder.is_dir() \
                or student_dir.name.startswith("."):
            continue
        expected = folder / f"{name}.ipynb"
        if expected.is_file() and not expected.is_symlink():
            out.append((student, str(expected), None))
            continue
        others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".") and not p.is_symlink())
        if others:
            out.append((student, str(others[0]),
                        f"notebook named {others[0].name}, expected {name}.ipynb (graded anyway)"))
        else:
            out.append((student, None, "no notebook submitted"))
    return out


def usable_id(name: str) -> bool:
    """A folder name nbgrader's gradebook and our reports can store as is."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the file system name
        return False
    return bool(name) and name.isprintable() and not name.startswith(".")


def _cached(course, name, student, path, key) -> dict | None:
    import hashlib

    result_path = course.autograded_dir / student / name / RESULT_FILE
    if not result_path.is_file():
        return None
    try:
        data = json.loads(result_path.read_text("utf-8"))
    except ValueError:
        return None
    try:
        sha = hashlib.sha256(read_capped(Path(path), 10**6)).hexdigest() if path else ""
    except OSError:
        return None
    if data.get("sha256") == sha and data.get("key") == key:
        return data
    return None


def _ensure_gradebook(course: Course, name: str, log) -> None:
    """Make sure the gradebook knows the assignment (``release`` does that)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .course import ensure_tools_on_path

    ensure_tools_on_path()
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(name)
            return
        except MissingEntry:
            pass
    from .release import release

    log(f"{name} is not in the gradebook yet: running release first")
    release(course, [name], log=lambda *a: None)


def _already_stored(gb, name, data) -> bool:
    """The gradebook holds exactly these autograded scores already."""
    from nbgrader.api import MissingEntry

    try:
        nb = gb.find_submission_notebook(name, name, data["student"])
    except MissingEntry:
        return False
    by_id = {q["id"]: q["points"] for q in data["questions"]}
    return all(g.auto_score == by_id.get(g.cell.name, g.auto_score) for g in nb.grades)


def submission_timestamp(course: Course, name: str, student: str):
    """The submission time nbgrader's ``collect`` wrote (``timestamp.txt``), or None."""
    from nbgrader.utils import parse_utc

    path = course.submitted_dir / student / name / "timestamp.txt"
    try:
        if path.is_symlink() or not path.is_file():
            return None
        text = read_capped(path, 0.001).decode("utf-8", "replace").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, TypeError):
        return None


def write_gradebook(gb, name: str, data: dict, spec, unchanged=False, timestamp=None) -> None:
    """Store one result in nbgrader's gradebook (main process only).

    As stock ``nbgrader autograde`` does (``SaveAutoGrades``): the
    submission with its timestamp, each grade cell's ``auto_score``, the
    "No response." comment of untouched answers, the notebook's flag. One
    difference, on purpose: a grade an instructor already gave by hand keeps
    its ``needs_manual_grade`` as the instructor left it (nbgrader sets it
    again on every autograde, so a regrade would send every written answer
    back to the formgrader's queue).

    ``unchanged``: a result reused from an earlier run; left alone when the
    gradebook already has it.
    """
    import warnings

    if unchanged and _already_stored(gb, name, data):
        _store_late(gb, name, data)
        return
    student = data["student"]
    gb.update_or_create_student(student)
    with warnings.catch_warnings():
        # nbgrader's own update_or_create_submission triggers SQLAlchemy
        # autoflush warnings (harmless, also seen with `nbgrader autograde`).
        warnings.simplefilter("ignore")
        if timestamp is not None:
            submission = gb.update_or_create_submission(name, student, timestamp=timestamp)
        else:
            submission = gb.update_or_create_submission(name, student)
    nb = gb.find_submission_notebook(name, name, student)
    by_id = {q["id"]: q for q in data["questions"]}
    for grade in nb.grades:
        q = by_id.get(grade.cell.name)
        if q is None:
            continue
        grade.auto_score = q["points"]
        if grade.manual_score is None:
            grade.needs_manual_grade = q["points"] is None
    for comment in nb.comments:
        q = by_id.get(comment.cell.name)
        comment.auto_comment = "No response." if q is not None and q["message"] == "No response." else None
    nb.flagged = any(f.startswith("flagged:") for f in data.get("flags", []))
    gb.db.commit()
    del submission
    _store_late(gb, name, data)


def _store_late(gb, name, data) -> None:
    """nbgrader's late penalty for this submission, into the gradebook and ``data``."""
    course = _MAIN.get("course")
    if course is None:
        return
    from .deadlines import apply_late_penalty

    try:
        late = apply_late_penalty(gb, course, name, data["student"])
    except Exception as exc:  # a deadline problem must not lose the grade
        data.setdefault("notes", []).append(f"late penalty not stored: {type(exc).__name__}: {exc}")
        return
    if late and (late.get("submitted") or late.get("late_penalty")):
        data["late"] = late


#: The course being graded, in the main process (for the gradebook writer).
_MAIN: dict = {}


def similarity_report(course: Course, name: str, spec, submissions, log=print) -> list:
    """``reports/<assignment>/similarity.txt``: near-identical code, for review only.

    Compares each student's own code cells (not the locked ones every student
    shares) with :func:`autograder.similarity.similar_pairs`; nothing is
    deducted.
    """
    from nbgrader import utils

    from .sanitize import NotANotebook, parse_submission
    from .similarity import similar_pairs
    from .text import one_line

    shared = [c.source for c in spec.release.cells if c.cell_type == "code" and utils.is_locked(c)]
    code = {}
    for student, path, _ in submissions:
        if path is None:
            continue
        try:
            nb, _ = parse_submission(read_capped(Path(path), course.limits().max_submission_mb))
        except (OSError, NotANotebook, ValueError):
            continue
        code[student] = [c.source for c in nb.cells if c.cell_type == "code" and not utils.is_locked(c)]
    pairs = similar_pairs(code, 0.9, shared=shared)
    lines = [f"{name}: pairs of submissions whose own code cells are near-identical "
             "(after removing comments and whitespace and renaming variables).",
             "For the instructor to review; nothing was deducted.", ""]
    lines += [f"{one_line(a)}  {one_line(b)}  similarity {score:.2f}" for a, b, score in pairs] or ["none found"]
    atomic_write(course.reports_dir / name / "similarity.txt", ("\n".join(lines) + "\n").encode("utf-8", "replace"))
    if pairs:
        log(f"similar code: {len(pairs)} pair(s) to review in {course.reports_dir / name / 'similarity.txt'}")
    return pairs


def merge_manual(gb, name: str, data: dict) -> dict:
    """A result with the instructor's manual grades and comments from formgrader.

    A question graded by hand (``manual_score`` set, for a written answer or
    as an override of an autograded one) takes that score and the
    instructor's comment; ``manual_pending`` counts only what is still to be
    graded. Adds ``manual_score`` (points given by hand) and ``total``.
    """
    import copy

    from nbgrader.api import MissingEntry

    data = copy.deepcopy(data)
    try:
        nb = gb.find_submission_notebook(name, name, data["student"])
    except MissingEntry:
        nb = None
    grades = {g.cell.name: g for g in nb.grades} if nb is not None else {}
    comments = {c.cell.name: c for c in nb.comments} if nb is not None else {}
    manual = pending = total = 0.0
    for q in data["questions"]:
        grade = grades.get(q["id"])
        comment = comments.get(q["id"])
        if grade is not None and grade.manual_score is not None:
            q["points"] = float(grade.manual_score)
            q["status"] = "graded"
            text = comment.manual_comment if comment is not None else None
            q["message"] = text or "graded by hand"
            manual += q["points"]
        elif q["status"] == "manual":
            pending += q["max_points"]
        total += q["points"] or 0.0
    data["manual_score"] = manual
    data["manual_pending"] = pending
    data["total"] = round(total, 6)
    return data


def with_manual_grades(course: Course, name: str, results: list) -> list:
    """Every result merged with the gradebook's manual grades (:func:`merge_manual`)."""
    from nbgrader.api import Gradebook

    if not (course.root / "gradebook.db").is_file():
        return results
    with Gradebook(course.db_url, course.course_id) as gb:
        return [merge_manual(gb, name, d) for d in results]


def regenerate_feedback(course: Course, name: str, results: list, log=print) -> int:
    """Feedback again, from the autograded notebooks, with the manual grades."""
    import nbformat

    from .feedback import render_feedback
    from .grading import Result
    from .spec import spec_for

    spec = spec_for(course, name)
    written = 0
    fields = set(Result.__dataclass_fields__)
    for data in results:
        student = data["student"]
        path = course.autograded_dir / student / name / f"{name}.ipynb"
        try:
            nb = nbformat.reads(read_capped(path, 200).decode("utf-8", "replace"), as_version=4)
        except (OSError, ValueError):
            nb = nbformat.v4.new_notebook()
        result = Result(**{k: v for k, v in data.items() if k in fields})
        html = render_feedback(nb, result, spec, late=data.get("late"))
        atomic_write(course.feedback_dir / student / name / f"{name}.html", html.encode("utf-8", "replace"))
        written += 1
    from .feedback import install_mathjax

    install_mathjax(course.feedback_dir)
    return written


def feedback(course: Course, name: str, log=print) -> list[dict]:
    """``autograder feedback ASSIGNMENT``: feedback and reports after manual grading."""
    from .report import write_reports
    from .spec import spec_for

    spec = spec_for(course, name)
    results = []
    for student, _, _ in find_submissions(course, name):
        path = course.autograded_dir / student / name / RESULT_FILE
        try:
            results.append(json.loads(read_capped(path, 50).decode("utf-8")))
        except (OSError, ValueError):
            continue
    if not results:
        raise UserError(f"nothing graded yet for {name} (run `autograder grade {name}` first)")
    merged = with_manual_grades(course, name, results)
    n = regenerate_feedback(course, name, merged, log=log)
    write_reports(course, name, spec, merged, log=log)
    log(f"feedback written for {n} student(s) in {course.feedback_dir}")
    return merged


def grade(course: Course, name: str, jobs=None, timeout=None, memory_mb=None, force=False,
          progress=True, log=print, sandbox=True) -> list[dict]:
    """Grade every submission of ``name`` (see the module docstring).

    Raises
    ------
    UserError
        ``sandbox`` is True and this machine cannot build the sandbox
        (the message says why; ``--no-sandbox`` trusts the students).
    """
    from nbgrader.api import Gradebook

    from . import sandbox as box
    from .grading import cache_key
    from .report import write_reports
    from .spec import spec_for

    _MAIN["course"] = course
    if sandbox and not box.probe().sandboxed:
        raise UserError(f"cannot sandbox the submissions: {box.probe().reason}; "
                        "pass --no-sandbox to grade without it (trusts the students)")
    log(("isolation: " + box.describe()) if sandbox else "isolation: none (--no-sandbox: trusts the students)")
    box.prepare()

    limits = course.limits(timeout=timeout, memory_mb=memory_mb)
    jobs = jobs or course.default_jobs()
    spec = spec_for(course, name)
    key = cache_key(spec, limits)
    submissions = find_submissions(course, name)
    if not submissions:
        raise UserError(f"no submissions for {name} in {course.submitted_dir} (run `autograder collect` first)")
    _ensure_gradebook(course, name, log)

    results: dict[str, dict] = {}
    todo = []
    for student, path, note in submissions:
        cached = None if force else _cached(course, name, student, path, key)
        if cached is not None:
            results[student] = cached
        else:
            todo.append((student, path, note))
    if results:
        log(f"{len(results)} submission(s) unchanged since they were graded (use --force to regrade)")

    started = time.monotonic()
    if results:
        with Gradebook(course.db_url, course.course_id) as gb:
            for data in results.values():
                write_gradebook(gb, name, data, spec, unchanged=True,
                                timestamp=submission_timestamp(course, name, data["student"]))
    if todo:
        _run_pool(course, name, limits, todo, jobs, progress, results, spec, sandbox)
    elapsed = time.monotonic() - started
    ordered = [results[s] for s, _, _ in submissions if s in results]
    if todo:
        log(f"graded {len(todo)} submission(s) in {elapsed:.1f} s with {min(jobs, len(todo))} job(s)")
    ordered = with_manual_grades(course, name, ordered)
    graded_by_hand = [d for d in ordered if d.get("manual_score") or any(
        q["status"] == "graded" for q in d["questions"])]
    if graded_by_hand:  # their feedback must show the instructor's grades too
        regenerate_feedback(course, name, graded_by_hand, log=log)
    write_reports(course, name, spec, ordered, log=log)
    similarity_report(course, name, spec, submissions, log=log)
    from .feedback import install_mathjax

    if not install_mathjax(course.feedback_dir):
        log("note: MathJax is not installed (run `make book` once); feedback shows math as TeX source")
    return ordered


def _run_pool(course, name, limits, todo, jobs, progress, results, spec, sandbox):
    from nbgrader.api import Gradebook
    from tqdm import tqdm

    if sandbox:
        from .sandbox import serve_boxes

        # Every box of the batch is forked from one preloaded box server,
        # started first so that it imports the libraries while the workers
        # start (seconds of imports saved per submission); where forking is
        # not possible each box starts on its own, with the same isolation.
        serve_boxes(limits)

    from .deadlines import load_deadlines

    with Gradebook(course.db_url, course.course_id) as gb:
        deadlines = load_deadlines(course, name, gb)

    from .sandbox import uid_block

    # fork: workers start at once with everything imported. The pool is
    # created before the gradebook connection and the progress bar's thread,
    # so no worker inherits either.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = multiprocessing.get_context(method)
    jobs = max(1, min(jobs, len(todo)))
    bar = None
    gb = None
    remaining = list(todo)
    attempts: dict[str, int] = {}
    # One block of uids for the whole batch; every submission (and every
    # retry of it) gets its own slice, so no two boxes share a uid.
    first_uid = uid_block(UIDS_PER_SUBMISSION * 2 * (len(todo) + 1))
    next_slot = iter(range(10**9))
    try:
        while remaining:
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                       initargs=(str(course.root), name, limits, course.config, sandbox, deadlines))
            futures = {}
            for student, path, note in remaining:
                uid = first_uid + UIDS_PER_SUBMISSION * next(next_slot)
                futures[pool.submit(_grade_one, student, path, note, uid)] = (student, path, note)
            retry = []
            if bar is None:
                bar = tqdm(total=len(todo), desc=f"grading {name}", unit="nb", disable=not progress,
                           file=sys.stderr)
                gb = Gradebook(course.db_url, course.course_id)
            try:
                for future in as_completed(futures):
                    student, path, note = futures[future]
                    try:
                        data = future.result()
                    except BrokenProcessPool:
                        attempts[student] = attempts.get(student, 0) + 1
                        if attempts[student] < 2:
                            retry.append((student, path, note))
                            continue
                        data = _failed(spec, limits, student, "the grading worker crashed")
                    except Exception as exc:
                        data = _failed(spec, limits, student, f"grader error: {type(exc).__name__}: {exc}")
                    results[student] = data
                    write_gradebook(gb, name, data, spec,
                                    timestamp=submission_timestamp(course, name, student))
                    bar.update(1)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            remaining = retry
    finally:
        if bar is not None:
            bar.close()
        if gb is not None:
            gb.close()


def _failed(spec, limits, student, reason) -> dict:
    from .grading import cache_key, invalid_result

    result = invalid_result(spec, reason, "", "", student)  # empty key: always regraded
    result.status = "error"
    return result.to_json()
