"""``autograder export``: grade-upload files for Canvas, Moodle, or plain CSV.

Scores are read from nbgrader's gradebook (``nbgrader.api.Gradebook``): for
each submission, ``autograded`` (autograded points not overridden by hand),
``manual`` (points given by hand in formgrader), ``late penalty`` (nbgrader's
``late_submission_penalty``, recomputed first from the current score with
:func:`autograder.deadlines.apply_late_penalty`, so manual grades count) and
the total ``autograded + manual - late penalty``.

Formats
-------
``canvas``  The roster is Canvas' gradebook export (Grades > Export). The
            output has Canvas' identifying columns (``Student, ID, SIS User
            ID, SIS Login ID, Section``, as in the roster), its "Points
            Possible" row, and one column per assignment, named as the
            roster names it (``Alpha and beta (123)``: matched by name, or
            set ``c.Autograder.lms_columns = {"alpha-beta": "Alpha and beta
            (123)"}``); an assignment with no such column gets a new one
            (Canvas creates the assignment on import). Student ids are
            Canvas user ids (the roster's ``ID``), as ``collect`` makes them.
``moodle``  The roster is the assignment's grading worksheet (View all
            submissions > Download grading worksheet); the output is that
            worksheet with ``Grade`` filled (one assignment per worksheet).
            Student ids are the participant ids (``Participant 12345``).
``csv``     ``student, first_name, last_name, email, lms_user_id`` and, per
            assignment, ``<a> autograded, <a> manual, <a> late penalty, <a>``
            (and ``total`` for several assignments); the roster is optional.

Roster students without a submission get an empty cell (not 0) and are
listed; gradebook students missing from a Canvas or Moodle roster are
listed and left out. Every cell is neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import re

from .course import Course, UserError
from .lms import CANVAS_ASSIGNMENT, CANVAS_ID_COLUMNS, read_roster, safe_text, write_csv

FORMATS = ("canvas", "moodle", "csv")


def _num(x) -> str:
    return "" if x is None else f"{round(float(x), 2):g}"


def assignment_scores(gb, course: Course, assignment: str, refresh: bool = True) -> dict:
    """``{student: {"autograded", "manual", "late_penalty", "total", "max_score",
    "pending", "seconds_late"}}`` for every submission of ``assignment`` in the gradebook."""
    from nbgrader.api import MissingEntry

    from .deadlines import apply_late_penalty

    try:
        record = gb.find_assignment(assignment)
    except MissingEntry:
        return {}
    out = {}
    for submission in list(record.submissions):
        student = submission.student_id
        seconds_late = 0.0
        if refresh:
            seconds_late = apply_late_penalty(gb, course, assignment, student)["seconds_late"]
        auto = manual = penalty = 0.0
        pending = False
        for notebook in submission.notebooks:
            penalty += notebook.late_submission_penalty or 0.0
            for grade in notebook.grades:
                if grade.manual_score is not None:
                    manual += grade.manual_score
                elif grade.auto_score is not None:
                    auto += grade.auto_score
                pending = pending or bool(grade.needs_manual_grade)
        out[student] = {"autograded": auto, "manual": manual, "late_penalty": penalty,
                        "total": max(0.0, auto + manual - penalty), "max_score": record.max_score,
                        "pending": pending, "seconds_late": seconds_late}
    return out


def _students(gb) -> dict:
    return {s.id: s for s in gb.students}


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def canvas_column(header: list, assignment: str, configured: dict) -> str | None:
    """The roster's column for ``assignment``: configured, else the same name,
    else the one column whose name contains it or all its words; or None."""
    if configured.get(assignment):
        want = configured[assignment]
        if want not in header:
            raise UserError(f"c.Autograder.lms_columns[{assignment!r}] = {want!r} is not a column of the roster")
        return want
    titles = {h: CANVAS_ASSIGNMENT.match(h)["title"] for h in header if CANVAS_ASSIGNMENT.match(h)}
    exact = [h for h, t in titles.items() if _norm(t) == _norm(assignment)]
    if len(exact) == 1:
        return exact[0]
    within = [h for h, t in titles.items() if _norm(assignment) in _norm(t)]
    if len(within) == 1:
        return within[0]
    words = set(re.findall(r"[0-9a-z]+", assignment.lower()))
    every = [h for h, t in titles.items() if words <= set(re.findall(r"[0-9a-z]+", t.lower()))]
    return every[0] if len(every) == 1 else None


def export(course: Course, assignments: list, fmt: str, output, roster=None, log=print) -> dict:
    """Write the upload file; return ``{"missing": [...], "not_in_roster": [...],
    "pending": [...], "rows": int}``."""
    from pathlib import Path

    from nbgrader.api import Gradebook

    from .collect import atomic_write
    from .course import ensure_tools_on_path

    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt in ("canvas", "moodle") and not roster:
        raise UserError(f"--format {fmt} needs --roster FILE (the {fmt.capitalize()} export to fill in)")
    ros = read_roster(roster) if roster else None
    if ros is not None and fmt in ("canvas", "moodle") and ros.platform != fmt:
        raise UserError(f"--format {fmt} needs a {fmt.capitalize()} roster; {roster} is a {ros.platform} one")
    names = list(assignments) or course.assignments()
    if fmt == "moodle" and len(names) != 1:
        raise UserError("a Moodle grading worksheet holds one assignment: name exactly one ASSIGNMENT")
    if not (course.root / "gradebook.db").is_file():
        raise UserError(f"no gradebook in {course.root} (run `autograder grade` first)")

    ensure_tools_on_path()
    with Gradebook(course.db_url, course.course_id) as gb:
        scores = {a: assignment_scores(gb, course, a) for a in names}
        people = _students(gb)
        by_lms = {s.lms_user_id: s.id for s in people.values() if s.lms_user_id}
        people = {sid: (s.first_name, s.last_name, s.email, s.lms_user_id) for sid, s in people.items()}
    submitted = sorted({s for per in scores.values() for s in per})

    def match(uid):
        sid = by_lms.get(uid, uid)
        return sid if any(sid in per for per in scores.values()) else None

    result = {"missing": [], "not_in_roster": [], "pending": sorted(
        {f"{s} ({a})" for a, per in scores.items() for s, d in per.items() if d["pending"]}), "rows": 0}
    if fmt == "csv":
        header, rows = _csv_sheet(names, scores, people, submitted, ros, match, result)
    elif fmt == "canvas":
        header, rows = _canvas_sheet(course, names, scores, ros, match, result, log)
    else:
        header, rows = _moodle_sheet(names[0], scores[names[0]], ros, match, result, log)
    if ros is not None and fmt != "csv":
        in_roster = {match(uid) for _, uid, *_ in ros.students}
        result["not_in_roster"] = [s for s in submitted if s not in in_roster]
    try:
        atomic_write(Path(output), write_csv(header, rows))
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None

    for a, per in scores.items():
        for s, d in sorted(per.items()):
            if d["late_penalty"] > 0:
                log(f"late      {s} {a}: {d['seconds_late'] / 3600:.1f} h late, -{_num(d['late_penalty'])} points")
    if result["missing"]:
        log(f"no submission (empty cell): {', '.join(result['missing'])}")
    if result["not_in_roster"]:
        log(f"not in the roster (left out): {', '.join(result['not_in_roster'])}")
    if result["pending"]:
        log(f"warning: written answers still to grade by hand (formgrader): {', '.join(result['pending'])}")
    log(f"wrote {output}: {fmt}, {', '.join(names)}, {result['rows']} student row(s)")
    return result


def _shown(first, last, uid) -> str:
    name = " ".join(x for x in (first, last) if x)
    return f"{safe_text(name)} ({uid})" if name else str(uid)


def _note_missing(result, names, missing, shown) -> None:
    if missing:
        result["missing"].append(shown if len(missing) == len(names) else f"{shown} ({', '.join(missing)})")


def _csv_sheet(names, scores, people, submitted, ros, match, result):
    header = ["student", "first_name", "last_name", "email", "lms_user_id"]
    for a in names:
        header += [f"{a} autograded", f"{a} manual", f"{a} late penalty", a]
    if len(names) > 1:
        header.append("total")
    rows_for = [(s, people.get(s, (None, None, None, None))) for s in submitted]
    if ros is not None:
        listed = set(submitted)
        for _, uid, first, last, email in ros.students:
            sid = match(uid)
            _note_missing(result, names, [a for a in names if sid not in scores[a]], _shown(first, last, uid))
            if sid is None and uid not in listed:
                rows_for.append((uid, (first, last, email, uid)))
                listed.add(uid)
    rows = []
    for sid, (first, last, email, lms) in rows_for:
        row = [sid, safe_text(first or ""), safe_text(last or ""), safe_text(email or ""), lms or ""]
        total = None
        for a in names:
            d = scores[a].get(sid)
            row += [_num(d["autograded"]), _num(d["manual"]), _num(d["late_penalty"]), _num(d["total"])] if d \
                else ["", "", "", ""]
            if d:
                total = (total or 0.0) + d["total"]
        if len(names) > 1:
            row.append(_num(total))
        rows.append(row)
    result["rows"] = len(rows)
    return header, rows


def _canvas_sheet(course, names, scores, ros, match, result, log):
    configured = dict(course.config.get("Autograder", {}).get("lms_columns", {}) or {})
    ids = [h for h in ros.header if h in CANVAS_ID_COLUMNS]
    columns = {}
    for a in names:
        col = canvas_column(ros.header, a, configured)
        if col is None:
            col = a
            log(f"note      the roster has no column for {a}: a new column {a!r} (Canvas creates the assignment)")
        columns[a] = col
    header = ids + [columns[a] for a in names]
    index = {h: i for i, h in enumerate(ros.header)}
    students = {i: uid for i, uid, *_ in ros.students}
    rows = []
    for i, r in enumerate(ros.rows):
        if i not in students:
            if "points possible" in (r[0] if r else "").lower():
                points = []
                for a in names:
                    col = columns[a]
                    mx = next((d["max_score"] for d in scores[a].values()), None)
                    points.append(r[index[col]] if col in index else _num(mx))
                rows.append([r[index[h]] for h in ids] + points)
            continue
        sid = match(students[i])
        cells = []
        for a in names:
            d = scores[a].get(sid) if sid else None
            cells.append(_num(d["total"]) if d else "")
        first, last = ros.by_id()[students[i]][1:3]
        _note_missing(result, names, [a for a, c in zip(names, cells) if c == ""], _shown(first, last, students[i]))
        rows.append([r[index[h]] for h in ids] + cells)
        result["rows"] += 1
    return header, rows


def _moodle_sheet(assignment, scores, ros, match, result, log):
    header = list(ros.header)
    if "Grade" not in header:
        raise UserError("the Moodle worksheet has no 'Grade' column")
    g = header.index("Grade")
    mx_col = header.index("Maximum Grade") if "Maximum Grade" in header else None
    fb = header.index("Feedback comments") if "Feedback comments" in header else None
    students = {i: uid for i, uid, *_ in ros.students}
    rows, warned = [], False
    for i, r in enumerate(ros.rows):
        r = list(r)
        if i in students:
            sid = match(students[i])
            d = scores.get(sid) if sid else None
            r[g] = _num(d["total"]) if d else ""
            if d is None:
                first, last = ros.by_id()[students[i]][1:3]
                result["missing"].append(_shown(first, last, students[i]))
            else:
                if mx_col is not None and not warned and _num(d["max_score"]) != _num(_float(r[mx_col])):
                    log(f"warning: Moodle's maximum grade is {r[mx_col]!r}, {assignment} has "
                        f"{_num(d['max_score'])} points: grades are not rescaled")
                    warned = True
                if fb is not None and d["late_penalty"] > 0 and not r[fb].strip():
                    r[fb] = f"Late submission: -{_num(d['late_penalty'])} points."
            result["rows"] += 1
        rows.append(r)
    return header, rows


def _float(text):
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return None
