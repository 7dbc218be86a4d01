"""Learning platforms' files: submission downloads in, grade sheets' rosters.

Reading a download (:func:`read_export`), safely
-------------------------------------------------
A download is a folder or a ``.zip`` file. Either way it becomes a list of
:class:`Entry` (a relative path, a size, a modification time and a way to
read the bytes), and what cannot be read safely is refused with a reason:

* symbolic links are never followed (folders are walked with ``O_NOFOLLOW``
  relative to already-opened directories; zip entries whose mode says
  "symlink" are refused), nor are devices, FIFOs and other special files;
* zip entries with absolute paths, ``..`` components, backslashes that
  would climb, NUL bytes, or encryption are refused;
* every file is capped (``c.Autograder.max_submission_mb``, default 50 MB):
  a zip entry is refused when its declared size is larger, and reading
  stops when its actual uncompressed size is (zip bombs lie about sizes).

Nothing is extracted to disk; only the notebooks that are collected are read.

Layouts (:func:`parse_export`)
------------------------------
``canvas``  Canvas "Download Submissions": flat files
            ``<name>_[late_]<user_id>_<submission_id>_<file>``; resubmitted
            files are renamed ``<file>-1``, ``<file>-2``, ...
``moodle``  Moodle "Download submissions": folders
            ``<Full Name>_<participant id>_assignsubmission_file_/<file>``
            (or the same prefix on flat files)
``folder``  ``<student>.ipynb`` files or ``<student>/<any name>.ipynb``

The layout is detected (``auto``) or forced. Platform layouts give the
platform's id as the student id and the name as the student's name.

Rosters (:func:`read_roster`)
-----------------------------
A Canvas gradebook export (``Student, ID, SIS User ID, SIS Login ID,
Section, <Assignment (id)> ...``) or a Moodle grading worksheet
(``Identifier, Full name, Email address, Status, Grade, ...``).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import Callable

from .course import UserError, sanitize_student_id

DEFAULT_MAX_SUBMISSION_MB = 50
MAX_ENTRIES = 100_000
MAX_DEPTH = 12
MAX_ID_LENGTH = 64


# ---- text that ends up in paths, databases and spreadsheets ---------------------
def printable(text) -> str:
    """``text`` with lone surrogates (undecodable bytes in file names),
    control and format characters (including bidirectional overrides) made
    U+FFFD and other whitespace a space: safe to print and to store."""
    out = []
    for ch in str(text):
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs", "Cf", "Co", "Cn"):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def safe_text(text, limit: int = 128) -> str:
    """``text`` fit for a database or a spreadsheet cell: :func:`printable`,
    runs of spaces made one, stripped, at most ``limit`` characters."""
    return re.sub(r" +", " ", printable(text)).strip()[:limit]


def student_id_for(raw: str) -> str:
    """A safe path component for a raw id (:func:`sanitize_student_id`, length-capped)."""
    sid = sanitize_student_id(raw)
    if len(sid) > MAX_ID_LENGTH:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        sid = sid[:MAX_ID_LENGTH - 9].rstrip("._-") + "-" + digest
    return sid


def csv_safe(value):
    """Neutralise a spreadsheet formula: a text cell that begins with ``=``,
    ``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading ``'``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(header, rows) -> bytes:
    """CSV bytes (UTF-8) with every cell passed through :func:`csv_safe`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in [header, *rows]:
        writer.writerow([csv_safe("" if v is None else v) for v in row])
    return buf.getvalue().encode("utf-8")


# ---- reading a download -----------------------------------------------------------
@dataclasses.dataclass
class Entry:
    """One regular file of a download."""

    parts: tuple
    size: int
    mtime: dt.datetime | None  # aware, UTC
    reader: Callable[[], bytes] = dataclasses.field(repr=False)

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def path(self) -> str:
        return "/".join(self.parts)

    def read(self) -> bytes:
        return self.reader()


class TooLarge(Exception):
    pass


def max_submission_bytes(config) -> int:
    mb = config.get("Autograder", {}).get("max_submission_mb", DEFAULT_MAX_SUBMISSION_MB)
    return int(float(mb) * 1024 * 1024)


def read_export(path, max_bytes: int, timezone=dt.timezone.utc) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The files of a download folder or zip: ``(entries, refused)``.

    ``refused`` holds ``(path, reason)`` for what was not read (links,
    special files, unsafe or oversized zip entries). ``timezone`` is used
    for zip entries that only carry a local time (no UTC extra field).
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, max_bytes)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise UserError(f"not a folder or a .zip file: {path}")
        return _read_zip(path, max_bytes, timezone)
    raise UserError(f"no such folder or .zip file: {path}")


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _read_capped(fileobj, max_bytes: int) -> bytes:
    data = fileobj.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge()
    return data


def _open_nofollow(root: Path, parts: tuple, max_bytes: int) -> bytes:
    """Read ``root/parts...`` without following a link anywhere below ``root``."""
    fds = [os.open(root, _DIR_FLAGS)]
    try:
        for part in parts[:-1]:
            fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1]))
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fds[-1])
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise OSError("not a regular file")
            return _read_capped(f, max_bytes)
    finally:
        for fd in fds:
            os.close(fd)


def _read_folder(root: Path, max_bytes: int):
    entries, refused = [], []

    def walk(dir_fd, prefix, depth):
        names = sorted(os.listdir(dir_fd))
        for name in names:
            parts = prefix + (name,)
            shown = "/".join(parts)
            if len(entries) + len(refused) >= MAX_ENTRIES:
                refused.append((shown, f"more than {MAX_ENTRIES} files in the download"))
                return
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError as exc:
                refused.append((shown, f"cannot read: {exc.strerror}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                refused.append((shown, "symbolic link (not followed)"))
            elif stat.S_ISDIR(st.st_mode):
                if depth >= MAX_DEPTH:
                    refused.append((shown + "/", "folders nested too deep"))
                    continue
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError as exc:
                    refused.append((shown + "/", f"cannot open: {exc.strerror}"))
                    continue
                try:
                    walk(sub, parts, depth + 1)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > max_bytes:
                    refused.append((shown, f"larger than the {max_bytes / 2**20:g} MB cap"))
                    continue
                mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc)
                entries.append(Entry(parts, st.st_size, mtime,
                                     lambda parts=parts: _open_nofollow(root, parts, max_bytes)))
            else:
                refused.append((shown, "not a regular file (device, pipe or socket)"))

    top = os.open(root, _DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))  # the instructor's own argument
    try:
        walk(top, (), 0)
    finally:
        os.close(top)
    return entries, refused


def _zip_utc_mtime(info: zipfile.ZipInfo) -> dt.datetime | None:
    """The UTC time of the "extended timestamp" extra field (0x5455), if any."""
    extra, i = info.extra, 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[i:i + 4])
        body = extra[i + 4:i + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return dt.datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], dt.timezone.utc)
        i += 4 + size
    return None


def _zip_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if "\x00" in name:
        return "a NUL byte in the name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if any(p == ".." for p in re.split(r"[/\\]", name)):
        return "'..' in the path"
    if stat.S_ISLNK(mode):
        return "symbolic link (refused)"
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file (device, pipe or socket)"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _read_zip(path: Path, max_bytes: int, timezone):
    entries, refused = [], []
    seen = set()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"cannot read the zip file {path}: {exc}") from None
    if len(infos) > MAX_ENTRIES:
        raise UserError(f"{path}: more than {MAX_ENTRIES} entries in the zip file")
    for info in infos:
        name = info.filename
        problem = _zip_problem(info)
        if problem:
            refused.append((safe_text(name, 300), problem))
            continue
        if info.is_dir():
            continue
        parts = tuple(p for p in name.split("/") if p not in ("", "."))
        if not parts:
            continue
        if parts in seen:
            refused.append((name, "a second zip entry with the same name (the first was kept)"))
            continue
        seen.add(parts)
        if info.file_size > max_bytes:
            refused.append((name, f"larger than the {max_bytes / 2**20:g} MB cap "
                                  f"(declares {info.file_size / 2**20:.1f} MB)"))
            continue
        mtime = _zip_utc_mtime(info)
        if mtime is None:
            try:
                mtime = dt.datetime(*info.date_time, tzinfo=timezone).astimezone(dt.timezone.utc)
            except ValueError:
                mtime = None

        def reader(info=info):
            try:
                with zipfile.ZipFile(path) as zf, zf.open(info) as f:
                    return _read_capped(f, max_bytes)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise OSError(f"damaged zip entry ({exc})") from None

        entries.append(Entry(parts, info.file_size, mtime, reader))
    return entries, refused


# ---- layouts ---------------------------------------------------------------------
CANVAS_FILE = re.compile(
    r"^(?P<name>.*?)_(?:(?P<late>late)_)?(?P<user_id>\d+)_(?P<submission_id>\d+)_(?P<file>.+)$",
    re.IGNORECASE | re.DOTALL)
MOODLE_PREFIX = re.compile(
    r"^(?P<name>.+)_(?P<user_id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$", re.DOTALL)
RESUBMISSION = re.compile(r"^(?P<base>.+)-(?P<n>\d+)$", re.DOTALL)
LAYOUTS = ("auto", "canvas", "moodle", "folder")


@dataclasses.dataclass
class Candidate:
    """One student's submission as found in a download."""

    identity: str  # who this is, stable across runs: "canvas:123", "moodle:45", "folder:<raw name>"
    raw_id: str  # the id before sanitizing
    source: str  # where it came from (for the report)
    platform: str
    notebooks: list  # of (Entry, display name)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None
    late: bool | None = None  # the platform's own "late" mark (Canvas)
    time_from_platform: bool = False
    dropped: list = dataclasses.field(default_factory=list)  # (path, reason)


def split_full_name(full: str) -> tuple[str, str]:
    """``"Jane Q. Doe"`` -> ``("Jane Q.", "Doe")``; Canvas' ``"Doe, Jane"`` -> ``("Jane", "Doe")``."""
    full = safe_text(full)
    if "," in full:
        last, first = full.split(",", 1)
        return first.strip(), last.strip()
    if " " in full:
        first, last = full.rsplit(" ", 1)
        return first, last
    return "", full


def detect_layout(entries: list[Entry]) -> str:
    tops = {e.parts[0] for e in entries}
    if any(MOODLE_PREFIX.match(t) for t in tops):
        return "moodle"
    if any(len(e.parts) == 1 and CANVAS_FILE.match(e.name) for e in entries):
        return "canvas"
    return "folder"


def _strip_single_top(entries: list[Entry]) -> list[Entry] | None:
    tops = {e.parts[0] for e in entries}
    if len(tops) == 1 and all(len(e.parts) > 1 for e in entries):
        return [dataclasses.replace(e, parts=e.parts[1:]) for e in entries]
    return None


def _is_hidden(parts) -> bool:
    return any(p.startswith(".") for p in parts[:-1]) or "__MACOSX" in parts


def parse_export(entries: list[Entry], layout: str = "auto") -> tuple[str, list[Candidate], list]:
    """Group a download's files by student: ``(layout, candidates, skipped)``."""
    if layout not in LAYOUTS:
        raise UserError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect_layout(entries)
        inner = _strip_single_top(entries)
        if layout == "folder" and inner is not None and detect_layout(inner) != "folder":
            entries, layout = inner, detect_layout(inner)
    return layout, *{"canvas": _parse_canvas, "moodle": _parse_moodle, "folder": _parse_folder}[layout](entries)


def _is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb") and not name.startswith(".")


def _parse_canvas(entries):
    by_user: dict[str, Candidate] = {}
    skipped = []
    for e in entries:
        m = CANVAS_FILE.match(e.name) if len(e.parts) == 1 else None
        if m is None:
            if not _is_hidden(e.parts) and not e.name.startswith("."):
                skipped.append((e.path, "not a Canvas submission file (<name>_[late_]<user id>_<submission id>_<file>)"))
            continue
        if not _is_notebook(m["file"]):
            skipped.append((e.path, "not a .ipynb file"))
            continue
        uid = m["user_id"]
        cand = by_user.setdefault(uid, Candidate(
            identity=f"canvas:{uid}", raw_id=uid, source=e.path, platform="canvas", notebooks=[],
            first_name="", last_name=safe_text(m["name"]) or uid, lms_user_id=uid, late=False))
        cand.notebooks.append((e, m))
    for cand in by_user.values():
        # Resubmissions: keep the latest version of each file (highest
        # submission id, then highest -N suffix).
        groups: dict[str, list] = {}
        for e, m in cand.notebooks:
            stem = m["file"][:-len(".ipynb")]
            r = RESUBMISSION.match(stem)
            base, n = (r["base"], int(r["n"])) if r else (stem, 0)
            groups.setdefault(base.lower(), []).append(((int(m["submission_id"]), n, e.path), e, m))
        kept = []
        for versions in groups.values():
            versions.sort(key=lambda v: v[0])
            _, latest, m = versions[-1]
            kept.append((latest, m))
            cand.dropped += [(e.path, f"an earlier submission of the same file; kept the latest, {latest.path}")
                             for _, e, _ in versions[:-1]]
        cand.notebooks = [(e, m["file"]) for e, m in kept]
        cand.late = any(bool(m["late"]) for _, m in kept)
        cand.source = ", ".join(sorted(e.path for e, _ in kept))
    return list(by_user.values()), skipped


def _parse_moodle(entries):
    by_user: dict[str, Candidate] = {}
    skipped = []
    for e in entries:
        m = MOODLE_PREFIX.match(e.parts[0])
        if m is None:
            if not e.parts[0].startswith(".") and "__MACOSX" not in e.parts:
                skipped.append((e.path, "not a Moodle submission (<Full Name>_<id>_assignsubmission_file_...)"))
            continue
        inner = e.parts[1:] if len(e.parts) > 1 else (m["file"],)
        if not inner[-1] or inner[-1].startswith(".") or _is_hidden(inner) or ".ipynb_checkpoints" in inner:
            continue
        if not _is_notebook(inner[-1]):
            skipped.append((e.path, "not a .ipynb file"))
            continue
        uid = m["user_id"]
        first, last = split_full_name(m["name"])
        cand = by_user.setdefault(uid, Candidate(
            identity=f"moodle:{uid}", raw_id=uid, source=e.parts[0], platform="moodle", notebooks=[],
            first_name=first, last_name=last or uid, lms_user_id=uid, time_from_platform=True))
        cand.notebooks.append((e, "/".join(inner)))
    return list(by_user.values()), skipped


def _parse_folder(entries):
    by_top: dict[str, Candidate] = {}
    skipped = []
    dirs_seen = {}
    for e in entries:
        top = e.parts[0]
        if len(e.parts) == 1:
            if top.startswith(".") and not top.lower().endswith(".ipynb"):
                skipped.append((top, "hidden file or folder"))
            elif not top.lower().endswith(".ipynb"):
                skipped.append((top, "not a .ipynb file"))
            else:
                raw = top[:-len(".ipynb")]
                by_top[top] = Candidate(identity=f"folder:{raw}", raw_id=raw, source=top, platform="folder",
                                        notebooks=[(e, top)], first_name="", last_name=safe_text(raw) or None)
            continue
        if top.startswith("."):
            dirs_seen.setdefault(top, "hidden")
            continue
        dirs_seen.setdefault(top, "empty")
        inner = e.parts[1:]
        if not _is_notebook(inner[-1]) or ".ipynb_checkpoints" in inner or _is_hidden(inner):
            continue
        dirs_seen[top] = "ok"
        key = top + "/"
        cand = by_top.setdefault(key, Candidate(
            identity=f"folder:{top}", raw_id=top, source=key, platform="folder", notebooks=[],
            first_name="", last_name=safe_text(top) or None))
        cand.notebooks.append((e, "/".join(inner)))
    for top, state in dirs_seen.items():
        if state == "hidden":
            skipped.append((top + "/", "hidden file or folder"))
        elif state == "empty":
            skipped.append((top + "/", "no .ipynb file inside"))
    return [by_top[k] for k in sorted(by_top)], skipped


# ---- rosters -----------------------------------------------------------------------
CANVAS_ID_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
CANVAS_ASSIGNMENT = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments")


@dataclasses.dataclass
class Roster:
    """A platform's grade sheet: its header, its rows, and each student row's id."""

    platform: str  # "canvas" or "moodle"
    header: list
    rows: list  # list of lists (all rows after the header, meta rows included)
    students: list  # (row index, platform user id, first name, last name, email)

    def by_id(self) -> dict:
        return {uid: (i, first, last, email) for i, uid, first, last, email in self.students}


def read_roster(path) -> Roster:
    """Read a Canvas gradebook export or a Moodle grading worksheet (CSV)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UserError(f"cannot read the roster {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"the roster {path} is not UTF-8 text (save it as CSV UTF-8)") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise UserError(f"the roster {path} is empty")
    header = [h.strip() for h in rows[0]]
    body = [r + [""] * (len(header) - len(r)) for r in rows[1:] if any(c.strip() for c in r)]
    students = []
    if "Identifier" in header and "Full name" in header:
        ci, cn = header.index("Identifier"), header.index("Full name")
        ce = header.index("Email address") if "Email address" in header else None
        for i, r in enumerate(body):
            m = re.search(r"(\d+)\s*$", r[ci])
            if m:
                first, last = split_full_name(r[cn])
                students.append((i, m.group(1), first, last, safe_text(r[ce]) if ce is not None else None))
        return Roster("moodle", header, body, students)
    if "Student" in header and "ID" in header:
        cs, ci = header.index("Student"), header.index("ID")
        for i, r in enumerate(body):
            if r[ci].strip().isdigit():
                first, last = split_full_name(r[cs])
                students.append((i, r[ci].strip(), first, last, None))
        return Roster("canvas", header, body, students)
    raise UserError(f"{path} is neither a Canvas gradebook export (columns Student, ID, ...) "
                    "nor a Moodle grading worksheet (columns Identifier, Full name, ...)")
