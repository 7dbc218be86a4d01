"""The instructor's loop on the demo course: grade, grade by hand, regrade, feedback.

What formgrader does when an instructor grades a written answer is done here
through nbgrader's own Gradebook API (formgrader's REST handlers call the
same ``Grade.manual_score`` / ``Comment.manual_comment`` setters). Then:
``grade --force`` keeps the manual grade and comment and does not send the
answer back to the queue; ``grades.csv``, the summary and the feedback show
them; ``autograder feedback`` rewrites feedback and reports. The gradebook
our batch writes is compared field by field with the one stock
``nbgrader autograde`` writes on the same submissions.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder_demo import make_course, submission

pytestmark = pytest.mark.slow


def autograder(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def rows(course):
    text = (course / "reports" / "demo" / "grades.csv").read_text()
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


def gradebook_fields(course):
    """Every field stock nbgrader's autograde sets, per student and cell."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in ("honest", "wrong", "blank"):
            sub = gb.find_submission("demo", student)
            nb = gb.find_submission_notebook("demo", "demo", student)
            out[student] = {
                "timestamp": sub.timestamp,
                "grades": sorted((g.cell.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades),
                "comments": sorted((c.cell.name, c.auto_comment, c.manual_comment) for c in nb.comments),
                "score": sub.score,
            }
    return out


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    course = make_course(root / "course")
    downloads = root / "downloads"
    downloads.mkdir()
    blank = submission(answer_a1="raise NotImplementedError()", answer_a2="raise NotImplementedError()")
    written = next(c for c in blank.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "written")
    written.source = "YOUR ANSWER HERE"
    for name, nb in {"honest": submission(), "wrong": submission(answer_a2="v = 2.0 / 3.0"), "blank": blank}.items():
        nbformat.write(nb, downloads / f"{name}.ipynb")
    assert autograder("release", "--course", course).returncode == 0
    assert autograder("collect", "demo", downloads, "--course", course).returncode == 0
    stock = root / "stock"
    shutil.copytree(course, stock)
    proc = autograder("grade", "demo", "--course", course, "--jobs", 2, "--timeout", 20, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    return course, stock


def test_gradebook_matches_stock_nbgrader(loop):
    course, stock = loop
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "demo", "--force"],
                          cwd=stock, capture_output=True, text=True, timeout=900,
                          env={**__import__("os").environ,
                               "PATH": f"{__import__('os').path.dirname(sys.executable)}:/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours, theirs = gradebook_fields(course), gradebook_fields(stock)
    assert ours == theirs
    assert ours["honest"]["timestamp"] is not None  # formgrader lists it as graded
    assert ("written", None, None, True) in ours["honest"]["grades"]  # needs grading by hand
    assert ("written", 0.0, None, False) in ours["blank"]["grades"]   # untouched: "No response."
    assert ("written", "No response.", None) in ours["blank"]["comments"]


def test_manual_grade_survives_force_and_reaches_reports_and_feedback(loop):
    from nbgrader.api import Gradebook

    course, _ = loop
    before = rows(course)
    assert before["honest"]["written"] == "" and before["honest"]["manual_pending"] == "1"
    html = (course / "feedback" / "honest" / "demo" / "demo.html").read_text()
    assert "pending" in html and "Score: 0.0 / 1.0" not in html

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # as formgrader does
        grade = gb.find_grade("written", "demo", "demo", "honest")
        grade.manual_score = 1.0
        grade.needs_manual_grade = False
        comment = gb.find_comment("written", "demo", "demo", "honest")
        comment.manual_comment = "Clear and right: well argued."
        gb.db.commit()

    proc = autograder("grade", "demo", "--course", course, "--force", "--jobs", 2, "--timeout", 20, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("written", "demo", "demo", "honest")
        assert (grade.manual_score, grade.needs_manual_grade) == (1.0, False)
        assert gb.find_comment("written", "demo", "demo", "honest").manual_comment == "Clear and right: well argued."
    after = rows(course)
    assert (after["honest"]["written"], after["honest"]["manual_score"], after["honest"]["manual_pending"],
            after["honest"]["total"]) == ("1", "1", "0", "6")
    assert after["wrong"]["manual_pending"] == "1" and after["wrong"]["written"] == ""
    html = (course / "feedback" / "honest" / "demo" / "demo.html").read_text()
    assert "Clear and right: well argued." in html
    summary = (course / "reports" / "demo" / "summary.txt").read_text()
    assert "1 graded" in summary

    proc = autograder("feedback", "demo", "--course", course)
    assert proc.returncode == 0, proc.stderr
    assert "Clear and right: well argued." in (course / "feedback" / "honest" / "demo" / "demo.html").read_text()


def test_mark_scheme_for_the_grader_only(loop):
    course, _ = loop
    graded = (course / "autograded" / "honest" / "demo" / "demo.ipynb").read_text()
    assert "For the grader" in graded and "Because." in graded
    assert "For the grader" not in (course / "feedback" / "honest" / "demo" / "demo.html").read_text()
    assert "Because." not in (course / "release" / "demo" / "demo.ipynb").read_text()


def test_feedback_is_offline_and_readable(loop):
    course, _ = loop
    html = (course / "feedback" / "wrong" / "demo" / "demo.html").read_text()
    import re

    assert "cdnjs" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing loads from another host
    assert '../../mathjax/tex-svg.js' in html
    assert "v: use the sample variance" in html
    if (course / "feedback" / "mathjax" / "tex-svg.js").exists():
        assert (course / "feedback" / "mathjax" / "tex-svg.js").stat().st_size > 100_000
