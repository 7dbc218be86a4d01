"""Grading under load and attack (issue 5), through the ``autograder`` CLI.

The bad-submission corpus of ``tests/bad_submissions.py`` (built from the
real alpha-beta notebooks) is graded in one ``grade --jobs 2`` batch next to
correct control students and after an earlier batch whose grades must
survive; each case's expected outcome is asserted on its ``grades.csv`` row.
Then: the rerun gives the same file, ``--jobs 1`` and ``--jobs 2`` agree, a
batch killed half-way resumes without redoing what it finished, and
``collect`` copes with awkward student ids.

Limits are short so that the module takes a few minutes on 2 cores:
``--timeout`` 6 s per cell, ``--memory-mb`` 2048 (the preloaded kernel needs
more than 1 GB of address space: 1024 fails at kernel start) and a 40 MB
output flood, 20 times the grader's 2 MB output cap.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bad_submissions as bs

pytestmark = pytest.mark.slow

A = "alpha-beta"
TIMEOUT = 6
MEMORY_MB = 2048
OUTPUT_MB = 40
LIMITS = ["--timeout", TIMEOUT, "--memory-mb", MEMORY_MB]


def _tree_hashes(course: Path, tops=("source", "release", "submitted", "nbgrader_config.py")) -> dict:
    out = {}
    for top in tops:
        root = course / top
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in paths:
            out[str(p.relative_to(course))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class Run:
    pass


@pytest.fixture(scope="module")
def corpus(course_copy):
    r = Run()
    course = r.course = course_copy("robust")
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    r.qs = bs.questions(source)
    r.ids = [q.grade_id for q in r.qs]
    r.points = {q.grade_id: q.points for q in r.qs}
    r.total = sum(r.points.values())
    good = bs.solved(source, release)

    # batch 1: grades that must survive the hostile batch
    bs.submit(course, "early-good", A, good)
    bs.submit(course, "early-wrong", A, bs.plant_wrong(copy.deepcopy(good), r.qs[-1]))
    r.proc1 = bs.run_autograder("grade", A, "--course", course, "--jobs", 2, *LIMITS)
    assert r.proc1.returncode == 0, r.proc1.stderr[-3000:]
    r.before = bs.read_grades(course, A)

    # batch 2: the corpus, with a second control student sorted last
    r.cases = bs.robustness_corpus(course, A, output_mb=OUTPUT_MB, memory_cap_mb=MEMORY_MB,
                                   escape_root=str(course.resolve()))
    for case in r.cases:
        bs.write_case(case, course / "submitted", A)
    bs.submit(course, "zz-control", A, good)
    r.hashes = _tree_hashes(course)
    t0 = time.monotonic()
    r.proc2 = bs.run_autograder("grade", A, "--course", course, "--jobs", 2, *LIMITS)
    r.seconds = time.monotonic() - t0
    r.after = bs.read_grades(course, A)
    r.csv_bytes = (course / "reports" / A / "grades.csv").read_bytes()
    return r


def test_corpus_cases_are_all_asserted(corpus):
    assert [c.name for c in corpus.cases] == _case_names()


def test_batch_completes(corpus):
    proc = corpus.proc2
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    expected = {c.name for c in corpus.cases} | {"early-good", "early-wrong", "zz-control"}
    assert set(corpus.after) == expected
    print(f"corpus of {len(corpus.cases)} graded in {corpus.seconds:.0f} s")


def _label(row):
    return f"{row['status']} {row['flags']}"


def _case_names():
    """Case names without building the corpus (needs a released course)."""
    return ["control-a", "infinite-loop", "ignores-interrupt", "os-exit", "segfault", "sys-exit", "memory-hog",
            "output-flood", "deleted-test-cell", "reordered-cells", "duplicated-cells", "renamed-test-cell",
            "metadata-stripped", "edited-tests", "edited-points", "not-json", "empty-file", "nbformat3",
            "wrong-file-name", "two-notebooks", "imports-solutions", "imports-solutions-hidden", "reads-source",
            "reads-release", "patches-numpy", "patches-pandas", "patches-checks", "writes-outside"]


@pytest.mark.parametrize("name", _case_names())
def test_case_outcome(corpus, name):
    case = next(c for c in corpus.cases if c.name == name)
    e = case.expect
    row = corpus.after.get(name)
    assert row is not None, f"{name} missing from grades.csv"
    score, maxi = bs.num(row["autograded_score"]), bs.num(row["autograded_max"])
    label = _label(row)
    why = f"{name} ({e.why}): got {row}"
    assert maxi == pytest.approx(corpus.total), why
    assert 0 <= score <= maxi, why
    if e.score == "full":
        assert score == pytest.approx(maxi), why
    elif e.score == "zero":
        assert score == 0, why
    elif e.score == "less":
        assert score < maxi, why
    for qid in e.full:
        assert bs.num(row[qid]) == pytest.approx(corpus.points[qid]), f"{qid} should keep its points: {why}"
    for qid in e.zero:  # the wrong item loses its points (points per item)
        assert bs.num(row[qid]) < corpus.points[qid], f"{qid} should lose points: {why}"
    if e.ok is True:
        assert row["status"] == "ok", why
    elif e.ok is False:
        assert row["status"] != "ok" and row["status"].strip(), why
    if e.flag:
        assert re.search(e.flag, label, re.IGNORECASE), f"expected /{e.flag}/ in status/flags: {why}"
    if e.clean:
        assert not row["flags"], why
    if name == "wrong-file-name":
        # graded under its assignment, or reported: never a silent zero
        assert score == pytest.approx(maxi) or row["status"] != "ok" or row["flags"], why


def test_every_problem_is_explained(corpus):
    """A row that is not a clean full mark carries a status or flag that says why."""
    for name, row in corpus.after.items():
        if row["status"] != "ok":
            assert len(row["status"]) >= 2 and (row["flags"] or row["status"] in (
                "error", "timeout", "kernel-died", "invalid", "missing")), (name, row)


def test_feedback_for_every_student(corpus):
    for name in corpus.after:
        folder = corpus.course / "feedback" / name / A
        assert any(folder.glob("*.html")), f"no feedback for {name}"


def test_controls_and_earlier_grades_unaffected(corpus):
    for student in ["control-a", "zz-control", "early-good"]:
        row = corpus.after[student]
        assert bs.num(row["autograded_score"]) == pytest.approx(corpus.total), row
        assert row["status"] == "ok" and not row["flags"], row
    for student, row in corpus.before.items():
        assert corpus.after[student] == row, f"earlier grade of {student} changed"


def test_gradebook_matches_grades_csv(corpus):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{corpus.course / 'gradebook.db'}") as gb:
        for name, row in corpus.after.items():
            if row["status"] != "ok":
                continue
            sub = gb.find_submission_notebook(A, A, name)
            for qid in corpus.ids:
                assert gb.find_grade(qid, A, A, name).score == pytest.approx(bs.num(row[qid])), (name, qid)
            assert sub.code_score == pytest.approx(bs.num(row["autograded_score"])), name


def test_nothing_escaped_the_sandbox(corpus):
    course = corpus.course
    marker = next(c.escape_marker for c in corpus.cases if c.escape_marker)
    planted = [str(p) for p in course.rglob(f"*{marker}*")]
    assert not planted, f"a submission wrote into the course directory: {planted}"
    now = _tree_hashes(course)
    changed = sorted(k for k, h in corpus.hashes.items() if now.get(k) != h)
    assert not changed, f"files changed by grading: {changed}"
    db = sqlite3.connect(course / "gradebook.db")
    tables = [t for (t,) in db.execute("select name from sqlite_master where type='table'")]
    db.close()
    assert marker not in tables and marker.lower() not in tables


def test_no_hidden_test_text_in_corpus_feedback(corpus):
    secrets = bs.hidden_lines(bs.read_nb(bs.source_path(corpus.course, A)))
    for path in (corpus.course / "feedback").rglob("*.html"):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [s for s in secrets if s in text or s in bs.normalise(text)]
        assert not found, f"{path}: {found[:2]}"


def test_rerun_is_idempotent_and_skips(corpus):
    t0 = time.monotonic()
    proc = bs.run_autograder("grade", A, "--course", corpus.course, "--jobs", 2, *LIMITS)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (corpus.course / "reports" / A / "grades.csv").read_bytes() == corpus.csv_bytes
    # nothing changed, so nothing is executed again (a corpus run takes far longer)
    assert seconds < max(20.0, corpus.seconds / 3), f"rerun took {seconds:.0f} s"


# ---------------------------------------------------------------------------
# parallelism, idempotence with re-execution, resume after a kill
# ---------------------------------------------------------------------------
def _small_class(course):
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    qs = bs.questions(source)
    good = bs.solved(source, release)
    subs = {"s1-good": good, "s2-blank": copy.deepcopy(release),
            "s3-wrong": bs.plant_wrong(copy.deepcopy(good), qs[1])}
    for student, nb in subs.items():
        bs.submit(course, student, A, nb)
    return subs


def test_jobs_1_and_2_agree_and_force_regrade_is_identical(course_copy):
    c1, c2 = course_copy("jobs1"), course_copy("jobs2")
    _small_class(c1)
    _small_class(c2)
    p1 = bs.run_autograder("grade", A, "--course", c1, "--jobs", 1, *LIMITS)
    p2 = bs.run_autograder("grade", A, "--course", c2, "--jobs", 2, *LIMITS)
    assert p1.returncode == 0 and p2.returncode == 0, (p1.stderr[-2000:], p2.stderr[-2000:])
    g1 = (c1 / "reports" / A / "grades.csv").read_bytes()
    g2 = (c2 / "reports" / A / "grades.csv").read_bytes()
    assert g1 == g2
    assert len(bs.read_grades(c1, A)) == 3
    p3 = bs.run_autograder("grade", A, "--course", c2, "--jobs", 2, "--force", *LIMITS)
    assert p3.returncode == 0, p3.stderr[-2000:]
    assert (c2 / "reports" / A / "grades.csv").read_bytes() == g2


def _result_files(course, student):
    out = {}
    for top in ["autograded", "feedback"]:
        folder = course / top / student / A
        if folder.exists():
            for p in folder.rglob("*"):
                if p.is_file():
                    out[str(p.relative_to(course))] = p.stat().st_mtime_ns
    return out


def _finished(course):
    """Students whose result record exists (the engine writes it last, atomically)."""
    from autograder.batch import RESULT_FILE

    return sorted(p.parents[1].name for p in (course / "autograded").glob(f"*/{A}/{RESULT_FILE}"))


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.fixture(scope="module")
def resumed(course_copy):
    """A batch of 4 killed (SIGKILL to its process group) after its first result, then rerun."""
    r = Run()
    course = r.course = course_copy("resume")
    source = bs.read_nb(bs.source_path(course, A))
    good = bs.solved(source, bs.read_nb(bs.release_path(course, A)))
    r.students = [f"r{i}" for i in range(4)]
    for s in r.students:
        bs.submit(course, s, A, good)
    cmd = [sys.executable, "-m", "autograder", "grade", A, "--course", str(course), "--jobs", "1",
           *map(str, LIMITS)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    below = set()
    try:
        while time.monotonic() < deadline and not _finished(course) and proc.poll() is None:
            below |= _descendants(proc.pid)
            time.sleep(0.2)
        below |= _descendants(proc.pid)
        r.killed_running = proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the grader and its workers, as `kill -9 -PGID` would
        proc.wait()
    time.sleep(3)  # give orphaned kernels the chance to notice and exit
    r.orphans = _alive(below)
    for pid in r.orphans:  # clean up what the grader left behind (only processes this test started)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    r.done = _finished(course)
    r.kept = {s: _result_files(course, s) for s in r.done}
    r.rerun = bs.run_autograder("grade", A, "--course", course, "--jobs", 2, *LIMITS)
    return r


def test_resume_after_killed_batch(resumed):
    r = resumed
    assert r.killed_running, "the batch finished before it could be killed"
    assert r.done, "no result landed within 300 s"
    assert len(r.done) < len(r.students), "everything was graded before the kill"
    assert r.rerun.returncode == 0, r.rerun.stderr[-3000:]
    rows = bs.read_grades(r.course, A)
    assert set(rows) == set(r.students)
    for s in r.students:
        assert rows[s]["status"] == "ok" and bs.num(rows[s]["autograded_score"]) == bs.num(
            rows[s]["autograded_max"]), rows[s]
    for s, files in r.kept.items():
        assert files and _result_files(r.course, s) == files, f"{s} was graded before the kill and graded again"


def test_killed_batch_leaves_no_running_kernels(resumed):
    """Student code must not keep running once the grader is killed (kernels die with it)."""
    assert not resumed.orphans, f"{len(resumed.orphans)} process(es) outlived the killed batch"


# ---------------------------------------------------------------------------
# collect: awkward student ids and layouts
# ---------------------------------------------------------------------------
SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def test_collect_awkward_ids(course_copy, tmp_path):
    course = course_copy("collect-ids")
    source = bs.read_nb(bs.source_path(course, A))
    data = bs.nb_bytes(bs.solved(source, bs.read_nb(bs.release_path(course, A))))
    files, n_students, reported = bs.collect_corpus(data)
    downloads = tmp_path / "downloads"
    for rel, content in files.items():
        p = downloads / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    before = _tree_hashes(course, tops=("source", "release", "nbgrader_config.py"))
    outside_before = sorted(str(p) for p in tmp_path.rglob("*"))
    proc = bs.run_autograder("collect", A, downloads, "--course", course)
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout + proc.stderr
    ids = sorted(p.name for p in (course / "submitted").iterdir())
    for i in ids:
        assert SAFE_ID.match(i) and i not in (".", ".."), f"unsafe student id {i!r}"
        nb = course / "submitted" / i / A / f"{A}.ipynb"
        assert nb.read_bytes() == data, nb
    for name in reported:
        assert name in report, f"{name!r} not in collect's report:\n{report}"
    # every notebook is imported or named in the report: nobody silently disappears
    assert len(ids) == n_students or (len(ids) == n_students - 1 and "..evil" in report), (
        f"expected {n_students} students, got {ids}; report:\n{report}")
    # nothing outside submitted/ (and nothing next to the downloads) was written
    assert _tree_hashes(course, tops=("source", "release", "nbgrader_config.py")) == before
    assert sorted(str(p) for p in tmp_path.rglob("*")) == outside_before
