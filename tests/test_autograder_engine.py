"""The grading engine on a tiny course, through the CLI (kernels: marked slow).

The real assignments and the full bad-submission corpus are graded in
tests/test_grading.py and tests/test_grading_robustness.py; these tests pin
the engine's own behaviour on a course small enough to read in one screen
(tests/autograder_demo.py).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import nbformat
import pytest

from autograder_demo import HIDDEN_Q1, HIDDEN_Q2, make_course, submission

pytestmark = pytest.mark.slow


def autograder(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_check_solution_and_blank(tmp_path):
    course = make_course(tmp_path / "course")
    path = tmp_path / "mine.ipynb"
    nbformat.write(submission(), path)
    proc = autograder("check", path, "--course", course, "--json", "--timeout", 20)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["assignment"] == "demo" and doc["score"] == doc["max_score"] == 5.0
    assert [q["status"] for q in doc["questions"]] == ["passed", "passed", "manual"]
    assert doc["flags"] == []

    wrong = submission(answer_a2="v = 2.0 / 3.0")  # ddof=0
    nbformat.write(wrong, path)
    proc = autograder("check", path, "--course", course, "--timeout", 20)
    assert proc.returncode == 0, proc.stderr
    assert "v: use the sample variance (ddof=1)" in proc.stdout  # the test's message...
    assert "assert abs(v" not in proc.stdout  # ...not its source
    assert HIDDEN_Q2 not in proc.stdout


def test_grade_batch_isolation_flags_and_resume(tmp_path):
    course = make_course(tmp_path / "course")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    cases = {
        "honest": submission(),
        "cheat": submission(answer_a1="import solutions\nx = 2"),
        # would fool a test run in the student's kernel; the judge runs outside it
        "patcher": submission(answer_a2="import builtins\nbuiltins.abs = lambda x: 0.0\nv = 5.0"),
        "stubborn": submission(answer_a2="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                         "while True:\n    pass"),
        "crasher": submission(answer_a2="import os\nos._exit(1)"),
        "vandal": submission(answer_a2=f"open({str(course / 'nbgrader_config.py')!r}, 'w').write('')\nv = 1.0"),
    }
    for name, nb in cases.items():
        nbformat.write(nb, downloads / f"{name}.ipynb")
    (downloads / "broken.ipynb").write_text("{")
    assert autograder("collect", "demo", downloads, "--course", course).returncode == 0
    config_before = (course / "nbgrader_config.py").read_text()

    proc = autograder("grade", "demo", "--course", course, "--jobs", 2, "--timeout", 4, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    grades = (course / "reports" / "demo" / "grades.csv").read_text()
    rows = {r["student"]: r for r in csv.DictReader(grades.splitlines())}
    assert sorted(rows) == sorted([*cases, "broken"])
    assert (rows["honest"]["q1"], rows["honest"]["q2"], rows["honest"]["status"]) == ("2", "3", "ok")
    assert rows["cheat"]["autograded_score"] == "0" and "imported the reference module" in rows["cheat"]["flags"]
    assert rows["patcher"]["q2"] == "0" and rows["patcher"]["q1"] == "2"
    assert "modified protected library code" in rows["patcher"]["flags"]
    assert (rows["stubborn"]["q1"], rows["stubborn"]["q2"], rows["stubborn"]["status"]) == ("2", "0", "timeout")
    assert (rows["crasher"]["q1"], rows["crasher"]["status"]) == ("2", "kernel-died")
    assert rows["broken"]["status"] == "invalid" and "not valid JSON" in rows["broken"]["flags"]
    assert (course / "nbgrader_config.py").read_text() == config_before  # the sandbox held
    assert rows["vandal"]["q2"] == "0"

    # feedback: the test's message, never the hidden test
    for student in rows:
        html = (course / "feedback" / student / "demo" / "demo.html").read_text()
        assert HIDDEN_Q1 not in html and HIDDEN_Q2 not in html and "BEGIN HIDDEN" not in html
    assert "No points for this question" in (course / "feedback" / "cheat" / "demo" / "demo.html").read_text()

    # the gradebook (single writer) has every student, for formgrader
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == sorted(rows)
        assert gb.find_submission("demo", "honest").score == 5.0

    # a rerun regrades nothing and writes the same grades.csv; a changed
    # submission (and only it) is graded again
    proc = autograder("grade", "demo", "--course", course, "--jobs", 2, "--timeout", 4, "--no-progress")
    assert proc.returncode == 0 and "7 submission(s) unchanged" in proc.stdout
    assert (course / "reports" / "demo" / "grades.csv").read_text() == grades
    (course / "autograded" / "cheat" / "demo" / ".autograder.json").unlink()  # as if killed mid-batch
    proc = autograder("grade", "demo", "--course", course, "--jobs", 1, "--timeout", 4, "--no-progress")
    assert "6 submission(s) unchanged" in proc.stdout and "graded 1 submission(s)" in proc.stdout
    assert (course / "reports" / "demo" / "grades.csv").read_text() == grades
