"""Learning platforms in and out: collect, deadlines, export (issue 9, sections 4 and 5).

Generated Canvas and Moodle downloads (zip and extracted folder, with late
files and resubmissions) must collect to the platform's ids, the students'
names and the right submission times; hostile downloads (links, special
files, ``..``, zip bombs, odd bytes in names) must not get out of
``submitted/`` nor overwrite another student's work; late penalties follow
nbgrader's plugins, due dates and per-student extensions; the Canvas and
Moodle upload files have the columns those platforms expect and leave
students without a submission empty.

Nothing here executes a notebook: scores are put into the gradebook with
nbgrader's API, as the grading batch does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.collect import collect
from autograder.course import Course, UserError
from autograder.deadlines import (PerDayPenalty, apply_late_penalty, format_timestamp, late_penalty,
                                  load_deadlines, reconcile)
from autograder.export import export
from autograder.lms import csv_safe, read_export, safe_text

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
A = "hedging"
UTC = dt.timezone.utc
DUE = "2026-02-20 17:00"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A course with only hedging released (gradebook with its cells)."""
    from autograder.release import release

    root = tmp_path_factory.mktemp("lms") / "course"
    root.mkdir()
    shutil.copy2(EXERCISES / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(EXERCISES / "source", root / "source")
    release(Course(root), [A], log=lambda *a: None)
    return root


@pytest.fixture
def course(released, tmp_path):
    """Factory: a fresh copy of the released course, extra config lines appended."""

    def make(config: str = "") -> Course:
        root = tmp_path / "course"
        if not root.exists():
            shutil.copytree(released, root)
        with open(root / "nbgrader_config.py", "a") as f:
            f.write("\n" + config + "\n")
        return Course(root)

    return make


@pytest.fixture(scope="module")
def nb(released) -> bytes:
    return (released / "release" / A / f"{A}.ipynb").read_bytes()


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def write_download(dest: Path, files: dict, as_zip: bool) -> Path:
    """``files``: relative path -> (bytes, aware datetime). A zip (entry times
    in UTC, as the course's default time zone reads them) or a folder (mtimes)."""
    if as_zip:
        path = dest.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, (data, when) in files.items():
                zf.writestr(zipfile.ZipInfo(rel, when.astimezone(UTC).timetuple()[:6]), data)
        return path
    for rel, (data, when) in files.items():
        p = dest / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, (when.timestamp(), when.timestamp()))
    return dest


def canvas_files(nb: bytes) -> dict:
    return {
        "doejane_12345_900001_hedging.ipynb": (nb, t("2026-02-20 15:00")),
        "smithbob_late_23456_900002_hedging.ipynb": (nb, t("2026-02-21 09:00")),
        # resubmissions: the latest (-2) is kept
        "leeann_34567_900003_hedging.ipynb": (nb, t("2026-02-19 10:00")),
        "leeann_34567_900003_hedging-1.ipynb": (nb + b"\n", t("2026-02-19 11:00")),
        "leeann_34567_900003_hedging-2.ipynb": (nb + b"\n\n", t("2026-02-19 12:00")),
        "leeann_34567_900003_scratch.txt": (b"notes", t("2026-02-19 12:00")),
        # Canvas marks it late, its file time says otherwise: Canvas wins
        "kimpat_late_45678_900004_hedging.ipynb": (nb, t("2026-02-20 10:00")),
    }


def moodle_files(nb: bytes) -> dict:
    return {
        "Jane Doe_101_assignsubmission_file_/hedging.ipynb": (nb, t("2026-02-20 16:59")),
        "Bob van Smith_102_assignsubmission_file_/My work.ipynb": (nb, t("2026-02-22 08:00")),
        "Bob van Smith_102_assignsubmission_file_/.ipynb_checkpoints/My work-checkpoint.ipynb":
            (nb, t("2026-02-22 08:00")),
        "Ann Lee_103_assignsubmission_file_/hedging.ipynb": (nb, t("2026-02-20 12:00")),
        "Ann Lee_103_assignsubmission_file_/draft.ipynb": (b"{}", t("2026-02-20 12:00")),
        "Ann Lee_103_assignsubmission_onlinetext_/onlinetext.html": (b"<p>hi</p>", t("2026-02-20 12:00")),
    }


def students_table(course: Course) -> dict:
    con = sqlite3.connect(course.root / "gradebook.db")
    try:
        return {r[0]: r[1:] for r in con.execute("select id, first_name, last_name, email, lms_user_id from student")}
    finally:
        con.close()


def stamp(course: Course, student: str) -> dt.datetime:
    from nbgrader.utils import parse_utc

    return parse_utc((course.submitted_dir / student / A / "timestamp.txt").read_text())


def run(course, path, **kw):
    lines = []
    result = collect(course, A, path, log=lines.append, **kw)
    return result, "\n".join(lines)


# ---- collect: Canvas ---------------------------------------------------------------
@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_canvas_download(course, nb, tmp_path, as_zip):
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}")
    path = write_download(tmp_path / "canvas", canvas_files(nb), as_zip)
    result, report = run(c, path)
    assert result["layout"] == "canvas"
    assert sorted(result["imported"]) == ["12345", "23456", "34567", "45678"], report
    assert sorted(p.name for p in c.submitted_dir.iterdir()) == ["12345", "23456", "34567", "45678"]
    # the latest resubmission is kept, and the report says so
    assert (c.submitted_dir / "34567" / A / f"{A}.ipynb").read_bytes() == nb + b"\n\n"
    assert "leeann_34567_900003_hedging-1.ipynb" in report and "kept the latest" in report
    assert "scratch.txt" in report
    # times: the file's, with a warning; Canvas' late mark wins when they disagree
    assert "file times" in report
    assert stamp(c, "12345") == dt.datetime(2026, 2, 20, 15, 0)
    assert stamp(c, "23456") == dt.datetime(2026, 2, 21, 9, 0)
    assert stamp(c, "45678") == dt.datetime(2026, 2, 20, 17, 0, 1)
    lms = json.loads((c.submitted_dir / "45678" / A / ".lms.json").read_text())
    assert lms["late"] is True and lms["platform"] == "canvas" and lms["time_source"] == "file"
    # names reach nbgrader's student table (formgrader shows them)
    table = students_table(c)
    assert table["12345"][1] == "doejane" and table["12345"][0] == "" and table["12345"][3] == "12345"


def test_canvas_extracted_folder_times_are_not_submission_times(course, nb, tmp_path):
    """An extracted download has the extraction time on every file: Canvas'
    marks decide, so on-time students are not made late."""
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}")
    files = {k: (v[0], t("2026-03-01 12:00")) for k, v in canvas_files(nb).items()}
    run(c, write_download(tmp_path / "canvas", files, as_zip=False))
    d = load_deadlines(c, A)
    assert d.seconds_late("12345", stamp(c, "12345")) == 0
    assert d.seconds_late("23456", stamp(c, "23456")) > 0


def test_canvas_roster_names(course, nb, tmp_path):
    c = course()
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8-sig")
    run(c, write_download(tmp_path / "canvas", canvas_files(nb), as_zip=True), roster=roster)
    table = students_table(c)
    assert table["12345"][:2] == ("Jane", "Doe")
    assert table["23456"][:2] == ("Bob", "Smith")


# ---- collect: Moodle --------------------------------------------------------------
@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_moodle_download(course, nb, tmp_path, as_zip):
    c = course()
    path = write_download(tmp_path / "moodle", moodle_files(nb), as_zip)
    result, report = run(c, path)
    assert result["layout"] == "moodle"
    assert sorted(result["imported"]) == ["101", "102", "103"], report
    assert stamp(c, "101") == dt.datetime(2026, 2, 20, 16, 59)
    assert stamp(c, "102") == dt.datetime(2026, 2, 22, 8, 0)
    assert "file times" not in report  # Moodle's export keeps the times
    assert (c.submitted_dir / "103" / A / f"{A}.ipynb").read_bytes() == nb  # hedging.ipynb over draft.ipynb
    assert "draft.ipynb" in report and "onlinetext.html" in report
    table = students_table(c)
    assert table["102"][:2] == ("Bob van", "Smith")
    assert table["101"][:2] == ("Jane", "Doe") and table["101"][3] == "101"


def test_zip_utc_extra_field_wins(course, nb, tmp_path):
    """A zip entry's UTC "extended timestamp" is used over its local time."""
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("Jane Doe_101_assignsubmission_file_/hedging.ipynb", (2026, 2, 20, 18, 59, 0))
        info.extra = struct.pack("<HHBi", 0x5455, 5, 1, int(t("2026-02-20 16:59").timestamp()))
        zf.writestr(info, nb)
    c = course()
    run(c, path)
    assert stamp(c, "101") == dt.datetime(2026, 2, 20, 16, 59)


def test_zip_local_times_use_the_course_time_zone(course, nb, tmp_path):
    c = course("c.Autograder.timezone = 'Europe/Zurich'")
    path = write_download(tmp_path / "m", {"Jane Doe_101_assignsubmission_file_/hedging.ipynb":
                                           (nb, t("2026-02-20 17:59"))}, as_zip=True)
    run(c, path)
    assert stamp(c, "101") == dt.datetime(2026, 2, 20, 16, 59)  # 17:59 in Zurich (UTC+1)


# ---- collect: plain folders, ids across runs ------------------------------------------
def test_folder_layout_and_ids_across_runs(course, nb, tmp_path):
    c = course()
    first = write_download(tmp_path / "d1", {"Anna Müller.ipynb": (nb, t("2026-02-20 10:00")),
                                             "bob/whatever.ipynb": (nb, t("2026-02-20 10:00"))}, as_zip=False)
    result, report = run(c, first)
    assert result["layout"] == "folder" and sorted(result["imported"]) == ["Anna_Muller", "bob"]
    assert "file times" in report
    # a different student whose id collides is kept beside, never over, the first
    second = write_download(tmp_path / "d2", {"Anna_Muller/nb.ipynb": (nb + b" ", t("2026-02-20 11:00"))},
                            as_zip=False)
    result, report = run(c, second)
    assert result["imported"] == ["Anna_Muller-2"] and "Anna_Muller-2" in report
    assert (c.submitted_dir / "Anna_Muller" / A / f"{A}.ipynb").read_bytes() == nb
    # the same student's new file replaces the old one, and the report says so
    third = write_download(tmp_path / "d3", {"Anna Müller.ipynb": (nb + b"  ", t("2026-02-21 10:00"))},
                           as_zip=False)
    result, report = run(c, third)
    assert result["imported"] == ["Anna_Muller"] and "updated" in report and "replaces" in report
    assert (c.submitted_dir / "Anna_Muller" / A / f"{A}.ipynb").read_bytes() == nb + b"  "
    assert (c.submitted_dir / "Anna_Muller-2" / A / f"{A}.ipynb").read_bytes() == nb + b" "
    # both in one run: both kept
    c2_root = tmp_path / "fresh"
    both = write_download(tmp_path / "d4", {"Anna Müller.ipynb": (nb, t("2026-02-20 10:00")),
                                            "Anna_Muller/nb.ipynb": (nb, t("2026-02-20 10:00"))}, as_zip=True)
    shutil.copytree(c.root, c2_root, ignore=shutil.ignore_patterns("submitted", ".autograder"))
    result, report = run(Course(c2_root), both)
    assert sorted(result["imported"]) == ["Anna_Muller", "Anna_Muller-2"], report


def test_unchanged_rerun(course, nb, tmp_path):
    c = course()
    path = write_download(tmp_path / "canvas", canvas_files(nb), as_zip=True)
    run(c, path)
    result, report = run(c, path)
    assert all(s["state"] == "unchanged" for s in result["students"].values()), report


# ---- collect: hostile downloads -----------------------------------------------------
def test_hostile_zip(course, nb, tmp_path):
    c = course("c.Autograder.max_submission_mb = 0.1")
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doejane_12345_1_hedging.ipynb", nb)
        link = zipfile.ZipInfo("linkme_11111_1_hedging.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("fifo_22222_1_hedging.ipynb")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, "")
        zf.writestr("../escape_33333_1_hedging.ipynb", nb)
        zf.writestr("/abs_44444_1_hedging.ipynb", nb)
        zf.writestr("bomb_55555_1_hedging.ipynb", b"{" + b" " * 5_000_000 + b"}")  # 5 MB of spaces
    raw = path.read_bytes()
    result, report = run(c, path)
    assert result["imported"] == ["12345"], report
    for name, why in [("linkme", "symbolic link"), ("fifo", "not a regular file"), ("escape", "'..'"),
                      ("abs_", "absolute path"), ("bomb", "cap")]:
        assert any(name in what and why in reason for what, reason in result["skipped"]), (name, report)
    assert sorted(p.name for p in c.root.iterdir()) == sorted(
        ["nbgrader_config.py", "source", "release", "gradebook.db", "submitted", ".autograder"])
    assert path.read_bytes() == raw  # the download itself is not modified


def test_zip_bomb_lying_about_its_size(course, tmp_path):
    """The declared size is checked first, the actual size while reading."""
    big = b"{" + b" " * 3_000_000 + b"}"
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb_55555_1_hedging.ipynb", big)
    data = bytearray(path.read_bytes())
    # patch the uncompressed size (local header offset 22, central directory +24) to 100 bytes
    data[22:26] = struct.pack("<I", 100)
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))
    c = course("c.Autograder.max_submission_mb = 1")
    result, report = run(c, path)
    assert result["imported"] == [] and "bomb_55555_1_hedging.ipynb" in report, report
    entries, _ = read_export(path, 1024 * 1024)
    with pytest.raises(Exception):
        entries[0].read()


def test_hostile_folder(course, nb, tmp_path):
    c = course("c.Autograder.max_submission_mb = 0.1")
    d = tmp_path / "dl"
    d.mkdir()
    (d / "alice.ipynb").write_bytes(nb)
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(b'{"cells": [], "secret": true}')
    (d / "mallory.ipynb").symlink_to(secret)
    (d / "trudy").symlink_to(tmp_path)  # a link to a folder
    (d / "eve").mkdir()
    (d / "eve" / "hedging.ipynb").symlink_to(secret)
    os.mkfifo(d / "fifo.ipynb")
    (d / "big.ipynb").write_bytes(b"{" + b" " * 200_000 + b"}")
    weird = os.fsencode(d) + b"/\xff\xfe Zo\x1b[31m\xe9 \xe2\x80\xae"  # undecodable bytes, ESC, RLO
    os.mkdir(weird)
    with open(weird + b"/nb.ipynb", "wb") as f:
        f.write(nb)
    result, report = run(c, d)
    imported = sorted(result["imported"])
    assert "alice" in imported and len(imported) == 2, report
    for name in ["mallory", "trudy", "eve", "fifo", "big"]:
        assert name in report, (name, report)
    for student in c.submitted_dir.iterdir():
        assert b"secret" not in (student / A / f"{A}.ipynb").read_bytes()
    report.encode("utf-8")  # printable: no lone surrogates
    assert "\x1b" not in report and "\u202e" not in report
    weird_id = next(i for i in imported if i != "alice")
    assert weird_id.isascii() and "/" not in weird_id
    # the name is stored without surrogates or control characters
    name = students_table(c)[weird_id][1]
    assert not any(ord(ch) < 32 or 0xD800 <= ord(ch) < 0xE000 or ch == "\u202e" for ch in name), repr(name)


def test_safe_text_and_csv_safe():
    assert safe_text("a\udcffb\x00c\u202ed  e") == "a\ufffdb\ufffdc\ufffdd e"
    assert [csv_safe(x) for x in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "ok", 3.5]] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\t=x", "ok", 3.5]


# ---- deadlines -------------------------------------------------------------------
def test_late_penalty_plugins(course):
    when = "2026-02-21 09:00:00.000000 UTC"  # 16 h late
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}")
    assert late_penalty(c, "s", A, when, 10.0) == 0.0  # nbgrader's default: penalty_method "none"
    assert late_penalty(c, "s", A, "2026-02-20 16:00:00 UTC", 10.0) == 0.0
    c = course("c.LateSubmissionPlugin.penalty_method = 'zero'")
    assert late_penalty(c, "s", A, when, 10.0) == 10.0
    assert late_penalty(c, "s", A, "2026-02-20 16:00:00 UTC", 10.0) == 0.0
    c = course("c.AssignLatePenalties.plugin_class = 'autograder.deadlines.PerDayPenalty'\n"
               "c.PerDayPenalty.percent_per_day = 10")
    assert late_penalty(c, "s", A, when, 10.0) == pytest.approx(1.0)
    assert late_penalty(c, "s", A, "2026-02-22 18:00:00 UTC", 10.0) == pytest.approx(3.0)  # 3 days started
    assert PerDayPenalty(percent_per_day=50).late_submission_penalty("s", 8.0, 10 * 86400) == 8.0


def test_extensions(course):
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}\n"
               "c.LateSubmissionPlugin.penalty_method = 'zero'\n"
               f"c.Autograder.extensions = {{'s1': {{'{A}': '2026-02-23 17:00'}}, 's2': {{'{A}': 48}},"
               f" 's3': {{'{A}': {{'days': 1}}}}, 's4': {{'alpha-beta': 24}}}}")
    when = "2026-02-21 09:00:00 UTC"
    assert [late_penalty(c, s, A, when, 10.0) for s in ["s1", "s2", "s3", "s4", "s5"]] == [0, 0, 0, 10, 10]
    assert late_penalty(c, "s3", A, "2026-02-21 17:00:01 UTC", 10.0) == 10.0
    d = load_deadlines(c, A)
    assert d.due_for("s1") == dt.datetime(2026, 2, 23, 17, 0)
    with pytest.raises(UserError):
        load_deadlines(course("c.Autograder.extensions = {'s': {'hedging': 'next tuesday-ish'}}"), A)


def test_reconcile():
    due = dt.datetime(2026, 2, 20, 17)
    assert reconcile(dt.datetime(2026, 2, 20, 16), True, due)[0] == due + dt.timedelta(seconds=1)
    assert reconcile(dt.datetime(2026, 2, 21), False, due)[0] == due
    assert reconcile(dt.datetime(2026, 2, 21), None, due) == (dt.datetime(2026, 2, 21), None)
    assert format_timestamp(dt.datetime(2026, 2, 20, 17)) == "2026-02-20 17:00:00.000000 UTC"


def give_scores(c: Course, points: dict) -> None:
    """Autograded points per student, as the batch stores them (nbgrader API)."""
    import warnings

    from nbgrader.api import Gradebook

    with Gradebook(c.db_url, c.course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for student, share in points.items():
            gb.update_or_create_student(student)
            gb.update_or_create_submission(A, student)
            nb = gb.find_submission_notebook(A, A, student)
            for grade in nb.grades:
                if grade.cell.cell_type == "code":
                    grade.auto_score = grade.max_score * share
                else:
                    grade.auto_score, grade.needs_manual_grade = None, True
            gb.db.commit()


def test_apply_late_penalty_in_gradebook(course, nb, tmp_path):
    from nbgrader.api import Gradebook

    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}\n"
               "c.LateSubmissionPlugin.penalty_method = 'zero'\n"
               f"c.Autograder.extensions = {{'34567': {{'{A}': 24}}}}")
    files = canvas_files(nb)
    files["leeann_late_34567_900003_hedging-3.ipynb"] = (nb, t("2026-02-21 10:00"))  # late, but extended
    run(c, write_download(tmp_path / "canvas", files, as_zip=True))
    give_scores(c, {"12345": 1.0, "23456": 1.0, "34567": 1.0, "45678": 0.5})
    with Gradebook(c.db_url, c.course_id) as gb:
        out = {s: apply_late_penalty(gb, c, A, s) for s in ["12345", "23456", "34567", "45678"]}
        assert gb.find_assignment(A).duedate == dt.datetime(2026, 2, 20, 17)
        sub = gb.find_submission(A, "23456")
        assert sub.timestamp == dt.datetime(2026, 2, 21, 9) and sub.total_seconds_late == 16 * 3600
        assert sub.late_submission_penalty == sub.score > 0  # 'zero': the whole score
        assert gb.find_submission(A, "12345").late_submission_penalty == 0
        assert gb.find_submission(A, "34567").extension == dt.timedelta(hours=24)
        assert gb.find_submission(A, "34567").late_submission_penalty == 0
        assert gb.find_submission(A, "45678").late_submission_penalty == gb.find_submission(A, "45678").score
    assert out["23456"]["seconds_late"] == 16 * 3600 and out["23456"]["late_penalty"] > 0
    assert out["12345"]["late_penalty"] == 0


# ---- export -----------------------------------------------------------------------
CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,Alpha and beta (7001),Hedging (7002),Current Score,Final Score
    Points Possible,,,,,17,16,(read only),(read only)
"Doe, Jane",12345,s1,jdoe,Section A,,,,
"Smith, Bob",23456,s2,bsmith,Section A,,,,
"Lee, Ann",34567,s3,alee,Section B,,,,
"Kim, Pat",45678,s4,pkim,Section B,,,,
"=HYPERLINK(""http://x""), Mal",56789,s5,@mal,Section B,,,,
"""

MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def moodle_roster() -> str:
    rows = [MOODLE_HEADER,
            ["Participant 101", "Jane Doe", "jane@example.org", "Submitted for grading", "", "16.00", "Yes",
             "Friday, 20 February 2026, 4:59 PM", "-", ""],
            ["Participant 102", "Bob van Smith", "bob@example.org", "Submitted for grading", "", "16.00", "Yes",
             "Sunday, 22 February 2026, 8:00 AM", "-", ""],
            ["Participant 103", "Ann Lee", "ann@example.org", "Submitted for grading", "", "16.00", "Yes", "-", "-", ""],
            ["Participant 104", "Nat Absent", "nat@example.org", "No submission", "", "16.00", "Yes", "-", "-", ""]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def read_csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(Path(path).read_text("utf-8"))))


def test_export_canvas(course, nb, tmp_path):
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}\n"
               "c.LateSubmissionPlugin.penalty_method = 'zero'")
    files = {k: v for k, v in canvas_files(nb).items() if not k.startswith("kimpat")}
    run(c, write_download(tmp_path / "canvas", files, as_zip=True))
    give_scores(c, {"12345": 1.0, "23456": 1.0, "34567": 0.5})
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8-sig")
    out = tmp_path / "upload.csv"
    lines = []
    result = export(c, [A], "canvas", out, roster=roster, log=lines.append)
    rows = read_csv(out)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Hedging (7002)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "16"
    by_id = {r[1]: r for r in rows[2:]}
    assert set(by_id) == {"12345", "23456", "34567", "45678", "56789"}
    auto_max = float(by_id["12345"][-1])
    assert 0 < auto_max < 16  # written answers are not graded yet
    assert by_id["23456"][-1] == "0"  # late, 'zero' penalty
    assert float(by_id["34567"][-1]) == pytest.approx(auto_max / 2, abs=0.01)
    assert by_id["45678"][-1] == "" and by_id["56789"][-1] == ""  # no submission: empty, not 0
    assert by_id["56789"][0].startswith("'=") and by_id["56789"][3] == "'@mal"
    assert "Kim" in "\n".join(lines) and any("45678" in m for m in result["missing"])
    # course-wide: one column per assignment, named as in the roster
    export(c, [], "canvas", out, roster=roster, log=lambda *a: None)
    header = read_csv(out)[0]
    assert header[5:7] == ["Alpha and beta (7001)", "Hedging (7002)"] and len(header) == 5 + len(c.assignments())


def test_export_moodle(course, nb, tmp_path):
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}\n"
               "c.AssignLatePenalties.plugin_class = 'autograder.deadlines.PerDayPenalty'\n"
               "c.PerDayPenalty.percent_per_day = 25")
    run(c, write_download(tmp_path / "moodle", moodle_files(nb), as_zip=True))
    give_scores(c, {"101": 1.0, "102": 1.0, "103": 0.0})
    roster = tmp_path / "worksheet.csv"
    roster.write_text(moodle_roster(), encoding="utf-8")
    out = tmp_path / "upload.csv"
    lines = []
    export(c, [A], "moodle", out, roster=roster, log=lines.append)
    rows = read_csv(out)
    assert rows[0] == MOODLE_HEADER
    grade = {r[0]: r[4] for r in rows[1:]}
    full = float(grade["Participant 101"])
    assert full > 0
    assert float(grade["Participant 102"]) == pytest.approx(full * 0.5, abs=0.01)  # 2 days started, 25% each
    assert grade["Participant 103"] == "0" and grade["Participant 104"] == ""
    assert rows[2][9].startswith("Late submission")
    assert "Nat Absent" in "\n".join(lines)
    with pytest.raises(UserError):
        export(c, [], "moodle", out, roster=roster)


def test_export_csv(course, nb, tmp_path):
    c = course()
    run(c, write_download(tmp_path / "moodle", moodle_files(nb), as_zip=False))
    give_scores(c, {"101": 1.0})
    out = tmp_path / "grades.csv"
    export(c, [A], "csv", out, log=lambda *a: None)
    rows = read_csv(out)
    assert rows[0] == ["student", "first_name", "last_name", "email", "lms_user_id",
                       f"{A} autograded", f"{A} manual", f"{A} late penalty", A]
    assert rows[1][:3] == ["101", "Jane", "Doe"] and float(rows[1][-1]) > 0


# ---- the command line ---------------------------------------------------------------
def autograder(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli(course, nb, tmp_path):
    c = course()
    proc = autograder("collect", A, tmp_path / "nope.zip", "--course", c.root)
    assert proc.returncode == 2 and "no such folder or .zip file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    path = write_download(tmp_path / "canvas", canvas_files(nb), as_zip=True)
    proc = autograder("collect", A, path, "--course", c.root)
    assert proc.returncode == 0, proc.stderr
    assert "4 submission(s)" in proc.stdout and "canvas layout" in proc.stdout
    proc = autograder("export", A, "--format", "canvas", "--output", tmp_path / "o.csv", "--course", c.root)
    assert proc.returncode == 2 and "--roster" in proc.stderr and "Traceback" not in proc.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    give_scores(c, {"12345": 1.0})
    proc = autograder("export", A, "--format", "canvas", "--roster", roster, "--output", tmp_path / "o.csv",
                      "--course", c.root)
    assert proc.returncode == 0, proc.stderr
    assert "no submission (empty cell)" in proc.stdout and (tmp_path / "o.csv").is_file()


# ---- lateness in grades.csv, summary and feedback ------------------------------------------
def test_lateness_in_reports_and_feedback(course, nb, tmp_path):
    from types import SimpleNamespace

    from autograder.deadlines import lateness
    from autograder.feedback import summary_markdown
    from autograder.report import grades_csv, summary_text

    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}\n"
               "c.LateSubmissionPlugin.penalty_method = 'zero'")
    run(c, write_download(tmp_path / "canvas", canvas_files(nb), as_zip=True))
    d = load_deadlines(c, A)
    late = lateness(c, d, "23456", 7.0)
    assert late == {"submitted": "2026-02-21 09:00:00 UTC", "due": "2026-02-20 17:00:00 UTC",
                    "seconds_late": 16 * 3600.0, "late_penalty": 7.0}
    on_time = lateness(c, d, "12345", 7.0)
    assert on_time["late_penalty"] == 0 and on_time["seconds_late"] == 0
    json.dumps(late)  # stored in the batch's JSON result files

    spec = SimpleNamespace(name=A, order=["q1"], grade_cells={"q1": SimpleNamespace(max_score=7)},
                           autograded_ids=["q1"])
    results = [{"student": s, "questions": [{"id": "q1", "points": 7.0, "status": "passed"}], "score": 7.0,
                "max_score": 7.0, "status": "ok", "flags": [], "late": info}
               for s, info in [("12345", on_time), ("23456", late)]]
    rows = list(csv.DictReader(io.StringIO(grades_csv(spec, results))))
    assert rows[1]["late_penalty"] == "7" and rows[1]["hours_late"] == "16.00" and rows[0]["late_penalty"] == "0"
    assert "late: 1 submission(s)" in summary_text(spec, results)
    result = SimpleNamespace(score=7.0, max_score=7.0, manual_pending=0, questions=[], flags=[])
    text = summary_markdown(result, late)
    assert "16.0 hours after the due date" in text and "-7" in text
    assert "before the due date" in summary_markdown(result, on_time)
    for row in [r.split(",") for r in grades_csv(spec, [dict(r, late=None) for r in results]).splitlines()[:1]]:
        assert "late_penalty" not in row  # without lateness the columns stay as they were


def test_moodle_flat_files_and_forced_layout(course, nb, tmp_path):
    """Moodle without "download submissions in folders"; ``layout`` forces the reading."""
    c = course()
    files = {"Jane Doe_101_assignsubmission_file_hedging.ipynb": (nb, t("2026-02-20 16:59")),
             "Jane Doe_101_assignsubmission_onlinetext_onlinetext.html": (b"<p/>", t("2026-02-20 16:59"))}
    result, report = run(c, write_download(tmp_path / "flat", files, as_zip=True))
    assert result["layout"] == "moodle" and result["imported"] == ["101"], report
    assert stamp(c, "101") == dt.datetime(2026, 2, 20, 16, 59)
    # the same files read as plain <student>.ipynb files
    result, report = run(c, write_download(tmp_path / "flat2", files, as_zip=True), layout="folder")
    assert result["imported"] == ["Jane_Doe_101_assignsubmission_file_hedging"], report
    # a download zipped with its folder around it is still recognised
    nested = {f"Download/{k}": v for k, v in canvas_files(nb).items()}
    result, report = run(c, write_download(tmp_path / "nested", nested, as_zip=True))
    assert result["layout"] == "canvas" and "12345" in result["imported"], report


def test_due_date_set_after_collect_and_hand_edited_times(course, nb, tmp_path):
    from autograder.deadlines import submission_time

    c = course()  # no due date while collecting
    files = {k: (v[0], t("2026-03-01 12:00")) for k, v in canvas_files(nb).items()}  # extraction times
    run(c, write_download(tmp_path / "canvas", files, as_zip=False))
    c = course(f"c.Autograder.duedates = {{'{A}': '{DUE}'}}")
    d = load_deadlines(c, A)
    assert d.seconds_late("12345", submission_time(c, A, "12345", d)) == 0  # Canvas: on time
    assert submission_time(c, A, "23456", d) == dt.datetime(2026, 3, 1, 12)  # Canvas: late
    (c.submitted_dir / "12345" / A / "timestamp.txt").write_text("2026-02-25 10:00:00 UTC")  # by hand
    assert submission_time(c, A, "12345", d) == dt.datetime(2026, 2, 25, 10)
