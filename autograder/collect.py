"""``autograder collect ASSIGNMENT PATH``: import downloaded submissions.

``PATH`` is a folder or a ``.zip`` file as the learning platform gives it
(:mod:`autograder.lms` reads both safely and knows the layouts):

* Canvas "Download Submissions" (``<name>_[late_]<user_id>_<submission_id>_
  <file>.ipynb``): the student id is Canvas' user id; of resubmitted files
  (``<file>-1``, ``<file>-2``) the latest is kept and the others reported;
  Canvas' late mark is kept and wins over the file's time;
* Moodle "Download all submissions" (``<Full Name>_<id>_assignsubmission_
  file_/<file>.ipynb``): the student id is Moodle's participant id (the
  number in the grading worksheet's "Participant 12345"), the time is the
  file time Moodle put in the zip;
* a folder of ``<student>.ipynb`` files or ``<student>/<any name>.ipynb``
  folders: the student id is the name made safe by
  :func:`autograder.course.sanitize_student_id`.

Each becomes ``submitted/<id>/<ASSIGNMENT>/<ASSIGNMENT>.ipynb`` with nbgrader's
``timestamp.txt`` (the platform's time, else the file's time, with a warning)
and ``.lms.json`` (what the platform said: late mark, file time, source).
Names (from the platform, or from ``--roster``, a Canvas gradebook export or
Moodle grading worksheet) go into nbgrader's student table, so formgrader
shows names. Rules, each reported in one line:

* files that are not ``.ipynb``, links, special files, unsafe zip entries and
  files over ``c.Autograder.max_submission_mb`` (default 50) are skipped;
* several notebooks for one student: the one named ``<ASSIGNMENT>.ipynb`` is
  taken, else the one sharing the most nbgrader cell ids with the
  assignment, ties broken by name; the others are reported as skipped;
* two different students whose ids collide after sanitizing (``Anna
  Müller.ipynb`` and ``Anna_Muller/``) are both kept, the second as
  ``Anna_Muller-2``; who owns which id is recorded in
  ``.autograder/students.json``, so a later run never replaces another
  student's work, and the same student's new file replaces the old one
  (reported as ``updated``);
* the notebook's content is not judged here (``grade`` reports empty or
  broken files per student, so nobody silently disappears).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from .course import Course, UserError

REGISTRY = Path(".autograder") / "students.json"


def _grade_ids(data: bytes) -> set:
    try:
        nb = json.loads(data.decode("utf-8-sig"))
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])} - {None}
    except Exception:
        return set()


def _pick(notebooks: list, assignment: str, known_ids: set):
    """The (entry, display name) to take from several notebooks of one student."""
    from .lms import RESUBMISSION

    want = f"{assignment}.ipynb".lower()
    for entry, shown in sorted(notebooks, key=lambda n: n[1]):
        base = shown.rsplit("/", 1)[-1].lower()
        stem = base[:-len(".ipynb")]
        r = RESUBMISSION.match(stem)
        if base == want or (r and f"{r['base']}.ipynb" == want):
            return entry, shown

    def overlap(item):
        try:
            return len(_grade_ids(item[0].read()) & known_ids)
        except Exception:
            return -1

    return max(sorted(notebooks, key=lambda n: n[1]), key=overlap)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---- who owns which student id --------------------------------------------------------
def load_registry(course: Course) -> dict:
    """``{student id: identity}`` recorded by earlier collects."""
    try:
        data = json.loads((course.root / REGISTRY).read_text("utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _assign_ids(course: Course, candidates: list, registry: dict) -> tuple[dict, list]:
    """``({identity: student id}, notes)``; new ids never take one owned by someone else."""
    from .lms import student_id_for

    owner = {sid.lower(): ident for sid, ident in registry.items()}
    by_identity = {ident: sid for sid, ident in registry.items()}
    existing = set()
    if course.submitted_dir.is_dir():
        existing = {p.name.lower() for p in course.submitted_dir.iterdir()}
    ids, notes = {}, []
    for cand in candidates:
        if cand.identity in ids:
            continue
        if cand.identity in by_identity:
            ids[cand.identity] = by_identity[cand.identity]
            continue
        base = student_id_for(cand.raw_id)
        sid, n = base, 1
        while sid.lower() in owner:
            n += 1
            sid = f"{base}-{n}"
        if sid != base:
            notes.append(f"student id {base!r} already belongs to {_shown(owner[base.lower()])}: "
                         f"{cand.source!r} is {sid!r}")
        elif sid.lower() in existing:
            notes.append(f"{sid!r}: adopted the folder submitted/{sid} collected before ids were recorded")
        owner[sid.lower()] = cand.identity
        ids[cand.identity] = sid
        registry[sid] = cand.identity
    return ids, notes


def _shown(identity: str) -> str:
    from .lms import safe_text

    kind, _, value = identity.partition(":")
    return {"canvas": "Canvas user ", "moodle": "Moodle participant "}.get(kind, "") + repr(safe_text(value, 80))


def _safe_dir(course: Course, student: str, assignment: str) -> Path:
    """``submitted/<student>/<assignment>``, created, with no link on the way."""
    folder = course.submitted_dir
    for part in ("", student, assignment):
        folder = folder / part if part else folder
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            folder.mkdir()
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(f"{folder} is not a folder (a link or a file)")
    return folder


# ---- collect -----------------------------------------------------------------------
def collect(course: Course, assignment: str, directory, log=print, layout: str = "auto", roster=None) -> dict:
    """Import submissions from a folder or zip.

    Returns ``{"imported": [ids], "skipped": [(what, why)], "layout": str,
    "students": {id: {"first_name", "last_name", "email", "lms_user_id",
    "late", "timestamp", "time_from_platform", "state"}}, "notes": [...]}``.
    """
    from .deadlines import LMS_FILE, course_timezone, format_timestamp, load_deadlines, reconcile
    from .lms import TooLarge, max_submission_bytes, parse_export, printable, read_export, read_roster, safe_text
    from .spec import load_spec

    raw_log = log

    def log(line):  # names in a download may hold any bytes: never print them raw
        raw_log(printable(line))

    src = Path(directory)
    config = course.config
    entries, refused = read_export(src, max_submission_bytes(config), course_timezone(config))
    layout, candidates, skipped = parse_export(entries, layout)
    skipped = list(refused) + list(skipped)
    known_ids = set(load_spec(course.source_notebook(assignment), assignment, config).order)
    people = read_roster(roster).by_id() if roster else {}

    chosen = []
    taken = {}
    for cand in sorted(candidates, key=lambda c: c.source):
        if cand.identity in taken:
            skipped.append((cand.source, f"the same student as {taken[cand.identity]}; took that one"))
            continue
        skipped.extend(cand.dropped)
        entry, shown = _pick(cand.notebooks, assignment, known_ids) if len(cand.notebooks) > 1 else cand.notebooks[0]
        for other, other_shown in cand.notebooks:
            if other is not entry:
                skipped.append((other.path, f"another notebook for the same student; took {shown}"))
        try:
            data = entry.read()
        except TooLarge:
            skipped.append((entry.path, "larger than the size cap once uncompressed (c.Autograder.max_submission_mb)"))
            continue
        except OSError as exc:
            skipped.append((entry.path, f"cannot read: {exc.strerror or exc}"))
            continue
        if cand.lms_user_id in people:
            _, first, last, email = people[cand.lms_user_id]
            cand.first_name, cand.last_name, cand.email = first, last, email or cand.email
        taken[cand.identity] = cand.source
        chosen.append((cand, entry, data))

    registry = load_registry(course)
    ids, notes = _assign_ids(course, [c for c, _, _ in chosen], registry)
    atomic_write(course.root / REGISTRY, json.dumps(registry, indent=1, sort_keys=True).encode())  # ids first
    gb = _open_gradebook(course)
    try:
        deadlines = load_deadlines(course, assignment, gb)
        imported, students, file_times = [], {}, []
        for cand, entry, data in chosen:
            student = ids[cand.identity]
            try:
                dest_dir = _safe_dir(course, student, assignment)
            except OSError as exc:
                skipped.append((cand.source, f"not written: {exc}"))
                continue
            when, note = reconcile(entry.mtime, cand.late, deadlines.duedate)
            stamp = format_timestamp(when) if when is not None else ""
            dest = dest_dir / f"{assignment}.ipynb"
            stamp_path = dest_dir / "timestamp.txt"
            old_stamp = stamp_path.read_text("utf-8", "replace").strip() if stamp_path.is_file() else None
            if dest.is_file() and dest.read_bytes() == data and old_stamp == stamp:
                state = "unchanged"
            else:
                state = "updated" if dest.exists() else "new"
                for old in dest_dir.glob("*.ipynb"):  # left from an earlier collect, would confuse grade
                    if old != dest:
                        old.unlink()
                atomic_write(dest, data)
                if stamp:
                    atomic_write(stamp_path, stamp.encode())
                elif stamp_path.exists():
                    stamp_path.unlink()
            record = {"platform": cand.platform, "identity": safe_text(cand.identity, 300),
                      "source": safe_text(f"{src.name}: {entry.path}", 500), "late": cand.late,
                      "file_time": format_timestamp(entry.mtime) if entry.mtime else None,
                      "time_source": "platform" if cand.time_from_platform else "file", "timestamp_txt": stamp}
            atomic_write(dest_dir / LMS_FILE, json.dumps(record, indent=1, sort_keys=True).encode())
            if gb is not None:
                _store_student(gb, student, cand, from_platform=cand.platform != "folder" or bool(people))
            if not cand.time_from_platform:
                file_times.append(student)
            bits = []
            if cand.raw_id != student:
                bits.append(f"from {safe_text(cand.source, 120)!r}")
            name = " ".join(x for x in (cand.first_name, cand.last_name) if x)
            if name and cand.platform != "folder":
                bits.append(name)
            if cand.late:
                bits.append(f"late ({cand.platform})")
            if state == "updated":
                bits.append("replaces the earlier submission")
            if note:
                bits.append(note)
            imported.append(student)
            students[student] = {"first_name": cand.first_name, "last_name": cand.last_name, "email": cand.email,
                                 "lms_user_id": cand.lms_user_id, "late": cand.late, "timestamp": when,
                                 "time_from_platform": cand.time_from_platform, "state": state}
            log(f"{state:9s} {student}" + (f" ({'; '.join(bits)})" if bits else ""))
        if gb is not None:
            from .deadlines import sync_due_date

            sync_due_date(gb, course, assignment)
    finally:
        if gb is not None:
            gb.close()
    for what, why in skipped:
        log(f"skipped   {what}: {why}")
    for note in notes:
        log(f"note      {note}")
    if file_times:
        log(f"warning: the submission times of {len(file_times)} submission(s) are file times "
            f"({'Canvas exports no submission times' if layout == 'canvas' else 'the download has no platform times'})"
            + ("; Canvas' late marks are applied" if layout == "canvas" else ""))
    if deadlines.duedate is None:
        log(f"note      {assignment} has no due date: no late penalties (c.Autograder.duedates)")
    log(f"{len(imported)} submission(s) in {course.submitted_dir} ({layout} layout), {len(skipped)} skipped")
    return {"imported": imported, "skipped": skipped, "layout": layout, "students": students, "notes": notes}


def _open_gradebook(course: Course):
    from nbgrader.api import Gradebook

    from .course import ensure_tools_on_path

    ensure_tools_on_path()
    try:
        return Gradebook(course.db_url, course.course_id)
    except Exception:
        return None


def _store_student(gb, student: str, cand, from_platform: bool) -> None:
    """Names into nbgrader's student table (platform names overwrite; names
    guessed from a folder only fill empty ones)."""
    from nbgrader.api import MissingEntry

    from .lms import safe_text

    fields = {"first_name": cand.first_name, "last_name": cand.last_name, "email": cand.email,
              "lms_user_id": cand.lms_user_id}
    fields = {k: safe_text(v) for k, v in fields.items() if v is not None}
    try:
        existing = gb.find_student(student)
    except MissingEntry:
        existing = None
    if existing is not None and not from_platform:
        fields = {k: v for k, v in fields.items() if getattr(existing, k) in (None, "")}
        if existing.last_name and "first_name" in fields:
            del fields["first_name"]
    gb.update_or_create_student(student, **fields)

