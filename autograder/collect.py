"""``autograder collect ASSIGNMENT DIR``: import downloaded submissions.

Learning platforms export a folder with ``<student>.ipynb`` files or
``<student>/<any name>.ipynb`` folders. Each becomes
``submitted/<id>/<ASSIGNMENT>/<ASSIGNMENT>.ipynb`` (plus nbgrader's
``timestamp.txt`` from the file's modification time), where ``<id>`` is the
student name made safe by :func:`autograder.course.sanitize_student_id`.

Rules, each reported in one line:

* files that are not ``.ipynb`` are skipped;
* a folder with several notebooks: the one named ``<ASSIGNMENT>.ipynb`` is
  taken, else the one sharing the most nbgrader cell ids with the
  assignment, ties broken by name; the others are reported as skipped;
* two sources that give the same id (``Anna Müller.ipynb`` and
  ``Anna_Muller/``): the first in sorted order is taken;
* the notebook's content is not judged here (``grade`` reports empty or
  broken files per student, so nobody silently disappears).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from .course import Course, UserError, sanitize_student_id


def _grade_ids(path: Path) -> set:
    try:
        nb = json.loads(path.read_bytes().decode("utf-8-sig"))
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])} - {None}
    except Exception:
        return set()


def _pick(notebooks: list[Path], assignment: str, known_ids: set) -> Path:
    for nb in notebooks:
        if nb.name == f"{assignment}.ipynb":
            return nb
    return max(sorted(notebooks), key=lambda p: len(_grade_ids(p) & known_ids))


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


def collect(course: Course, assignment: str, directory, log=print) -> dict:
    """Import submissions; return ``{"imported": [...], "skipped": [(what, why)]}``."""
    src = Path(directory)
    if not src.is_dir():
        raise UserError(f"no such directory: {src}")
    from .spec import load_spec

    known_ids = set(load_spec(course.source_notebook(assignment), assignment, course.config).order)
    candidates = {}  # student id -> (source description, notebook path)
    skipped = []
    for entry in sorted(src.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") and (entry.is_dir() or entry.suffix.lower() != ".ipynb"):
            skipped.append((entry.name, "hidden file or folder"))
            continue
        if entry.is_file():
            if entry.suffix.lower() != ".ipynb":
                skipped.append((entry.name, "not a .ipynb file"))
                continue
            raw_id, notebook = entry.stem, entry
        elif entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb")
                               if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("."))
            if not notebooks:
                skipped.append((entry.name + "/", "no .ipynb file inside"))
                continue
            notebook = _pick(notebooks, assignment, known_ids)
            for other in notebooks:
                if other != notebook:
                    skipped.append((str(other.relative_to(src)),
                                    f"another notebook for the same student; took {notebook.name}"))
            raw_id = entry.name
        else:
            continue
        student = sanitize_student_id(raw_id)
        if student in candidates:
            skipped.append((entry.name, f"student id {student!r} already taken by {candidates[student][0]}"))
            continue
        candidates[student] = (entry.name, notebook)

    imported = []
    for student, (what, notebook) in sorted(candidates.items()):
        dest_dir = course.submitted_dir / student / assignment
        dest = dest_dir / f"{assignment}.ipynb"
        data = notebook.read_bytes()
        if dest.exists() and dest.read_bytes() == data:
            state = "unchanged"
        else:
            state = "updated" if dest.exists() else "new"
            # other notebooks left from an earlier collect would confuse grade
            if dest_dir.is_dir():
                for old in dest_dir.glob("*.ipynb"):
                    if old != dest:
                        old.unlink()
            atomic_write(dest, data)
            stamp = dt.datetime.fromtimestamp(notebook.stat().st_mtime, dt.timezone.utc)
            atomic_write(dest_dir / "timestamp.txt", stamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z").encode())
        renamed = "" if raw_id_matches(what, student) else f" (from {what!r})"
        imported.append(student)
        log(f"{state:9s} {student}{renamed}")
    for what, why in skipped:
        log(f"skipped   {what}: {why}")
    log(f"{len(imported)} submission(s) in {course.submitted_dir}, {len(skipped)} skipped")
    return {"imported": imported, "skipped": skipped}


def raw_id_matches(what: str, student: str) -> bool:
    stem = what[:-6] if what.endswith(".ipynb") else what
    return stem == student
