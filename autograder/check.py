"""``autograder check NOTEBOOK``: grade one notebook for a learner working alone.

No gradebook, no instructor set-up, no copy of the notebook changed: the
locked cells and hidden tests come from the course's source notebooks
(``exercises/source``, shipped with the course), and the scores are those
``grade`` gives (same code path, :func:`autograder.grading.grade_notebook`):
the notebook runs in a box when this machine can build one (Linux with
bubblewrap), else as a plain child process (a learner grades only their own
work), and its answers are judged outside it, on plain data, either way.
"""

from __future__ import annotations

import json
from pathlib import Path

from .course import Course, UserError


def check(path, course_dir=None, timeout=None, memory_mb=None, sandbox=None):
    """Grade one notebook; return the :class:`~autograder.grading.Result`.

    Parameters
    ----------
    sandbox : bool, optional
        Default: use the box when this machine supports one.

    Raises
    ------
    UserError
        Missing file, not a notebook, not one of the course's assignments.
    """
    from .sandbox import Box, SandboxError, probe, uid_block

    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such notebook: {path}")
    course = Course(course_dir)
    limits = course.limits(timeout=timeout, memory_mb=memory_mb)
    if sandbox is None:
        sandbox = probe().sandboxed
    # The box starts first and imports the course's libraries while this
    # process reads the notebook and the course (both take seconds).
    uids = iter(range(uid_block(1000), 10**12))
    try:
        box = Box(None, limits, uid=next(uids), sandbox=sandbox)
    except SandboxError:
        box = None  # grade_notebook reports it, as a grader error, below
    try:
        from .grading import grade_notebook
        from .sanitize import NotANotebook, parse_submission
        from .spec import find_assignment, spec_for

        raw = path.read_bytes()
        if len(raw) > limits.max_submission_mb * 2**20:
            raise UserError(f"{path.name}: the file is larger than {limits.max_submission_mb:g} MB")
        try:
            nb, _ = parse_submission(raw)
        except NotANotebook as exc:
            raise UserError(f"{path.name}: {exc}") from None
        name = find_assignment(nb, course, filename=path.name)
        if name is None:
            raise UserError(f"{path.name} is not one of this course's assignments "
                            f"({', '.join(course.assignments())}): no known nbgrader cells")
        spec = spec_for(course, name)
        result, _ = grade_notebook(raw, spec, limits, config=course.config, sandbox=sandbox,
                                   new_uid=uids.__next__, box=box)
        box = None  # grade_notebook closed it
    finally:
        if box is not None:
            box.close()
    if result.status == "error":
        reason = next((n for n in result.notes if n.startswith("grader error")), "grader error")
        raise UserError(f"{path.name} could not be graded: {reason}")
    return result


def format_table(result, width=None) -> str:
    """The plain-text table ``check`` prints; long messages wrap, never cut."""
    import shutil
    import textwrap

    from .text import one_line

    width = width or max(80, shutil.get_terminal_size((100, 24)).columns)
    rows = [("question", "points", "max", "status", "message")]
    for q in result.questions:
        points = "-" if q["points"] is None else f"{q['points']:g}"
        rows.append((one_line(q["id"]), points, f"{q['max_points']:g}", q["status"], one_line(q["message"] or "")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    indent = sum(widths) + 2 * 4
    room = max(30, width - indent)
    lines = []
    for r in rows:
        head = "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  "
        wrapped = textwrap.wrap(r[4], room) or [""]
        lines.append(head + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 7)
    lines.append("")
    lines.append(f"{result.assignment}: {result.score:g} / {result.max_score:g} autograded points"
                 + (f" ({result.manual_pending:g} more graded by hand)" if result.manual_pending else ""))
    for flag in result.flags:
        lines += textwrap.wrap(f"note: {one_line(flag)}", width, subsequent_indent="      ")
    return "\n".join(lines)


def _progress_file() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "factor-models-course" / "progress.json"


def record_progress(result) -> None:
    """Remember this result (per assignment: the latest and the best score)."""
    path = _progress_file()
    try:
        data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        if not isinstance(data, dict):
            data = {}
        entry = data.get(result.assignment) if isinstance(data.get(result.assignment), dict) else {}
        best = max(float(entry.get("best", 0) or 0), result.score)
        data[result.assignment] = {"latest": result.score, "best": best, "max": result.max_score}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), "utf-8")
        tmp.replace(path)
    except (OSError, ValueError):
        pass  # progress is a convenience; never fail a check over it


def progress_line(course_dir=None) -> str:
    """One line across the course's assignments: best autograded score so far."""
    try:
        data = json.loads(_progress_file().read_text("utf-8"))
    except (OSError, ValueError):
        data = {}
    try:
        names = Course(course_dir).assignments()
    except UserError:
        names = sorted(data)
    parts = []
    for name in names:
        entry = data.get(name) if isinstance(data, dict) else None
        if isinstance(entry, dict) and "best" in entry:
            parts.append(f"{name} {float(entry['best']):g}/{float(entry.get('max', 0)):g}")
        else:
            parts.append(f"{name} -")
    return "progress (best autograded score so far): " + ", ".join(parts)


def to_json(result) -> str:
    return json.dumps(result.public(), indent=2)
