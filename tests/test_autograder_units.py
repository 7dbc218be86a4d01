"""Unit tests of the grading engine's internals (no kernel: fast).

End-to-end grading of the real assignments is in tests/test_grading.py and
tests/test_grading_robustness.py.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograder import integrity
from autograder.cli import main
from autograder.course import Course, Limits, UserError, sanitize_student_id
from autograder.report import grades_csv, summary_text
from autograder.sanitize import NotANotebook, parse_submission, sanitize
from autograder.spec import find_assignment, load_spec

from autograder_demo import HIDDEN_Q1, cell_index, make_course, raw, submission


@pytest.fixture
def course(tmp_path):
    return Course(make_course(tmp_path / "course"))


@pytest.fixture
def spec(course):
    return load_spec(course.source_notebook("demo"), "demo", course.config)


# ---- student ids ------------------------------------------------------------
@pytest.mark.parametrize("raw_id, expected", [
    ("alice", "alice"),
    ("Anna Müller", "Anna_Muller"),
    ("../../etc/passwd", "etc_passwd"),
    ("a/b\\c", "a_b_c"),
    ("..", None),
    ("日本語", None),
    ("bob.smith-2", "bob.smith-2"),
])
def test_sanitize_student_id(raw_id, expected):
    out = sanitize_student_id(raw_id)
    assert "/" not in out and "\\" not in out and ".." not in out and out.isascii()
    assert not out.startswith(".")
    if expected is None:
        assert out.startswith("student-") and len(out) == len("student-") + 8
        assert sanitize_student_id(raw_id) == out  # stable
    else:
        assert out == expected


# ---- the course and its limits --------------------------------------------------
def test_course_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        Course(tmp_path / "nope")
    with pytest.raises(UserError, match="no source/ folder"):
        Course(tmp_path)


def test_limits_from_config_and_flags(course):
    assert course.limits() == Limits(timeout=30, memory_mb=2048, max_output_mb=2.0, max_restarts=3)
    assert course.limits(timeout=5, memory_mb=512).timeout == 5
    with pytest.raises(UserError, match="memory cap"):
        course.limits(memory_mb=10)
    assert course.check_assignment("demo") == "demo"
    with pytest.raises(UserError, match="unknown assignment 'nope'; this course has: demo"):
        course.check_assignment("nope")


def test_cli_user_errors_are_one_line(tmp_path, capsys, course):
    assert main(["grade", "nope", "--course", str(course.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown assignment" in err and "Traceback" not in err
    assert main(["check", str(tmp_path / "missing.ipynb"), "--course", str(course.root)]) == 2
    assert "no such notebook" in capsys.readouterr().err
    (tmp_path / "x.ipynb").write_text("{not json")
    assert main(["check", str(tmp_path / "x.ipynb"), "--course", str(course.root)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["release", "--course", str(tmp_path / "none")]) == 2
    assert "course directory not found" in capsys.readouterr().err


# ---- the spec ---------------------------------------------------------------
def test_spec_matches_generate_assignment(spec):
    assert spec.order == ["intro", "choice", "a1", "q1", "a2", "q2", "written"]
    assert spec.autograded_ids == ["q1", "q2"]
    assert spec.max_score == 6.0
    assert HIDDEN_Q1 in spec.hidden_lines
    release_text = nbformat.writes(spec.release)
    assert HIDDEN_Q1 not in release_text and "x = 2" not in release_text
    # locked test cells keep their hidden tests in the spec (as in the gradebook)
    q1 = next(c for c in spec.source_cells if c.name == "q1")
    assert HIDDEN_Q1 in q1.source and q1.locked


def test_find_assignment_by_ids_then_name(course, spec):
    assert find_assignment(spec.release, course) == "demo"
    assert find_assignment(nbformat.v4.new_notebook(), course, filename="demo-mine.ipynb") == "demo"
    assert find_assignment(nbformat.v4.new_notebook(), course, filename="other.ipynb") is None


# ---- reading submissions ----------------------------------------------------------
@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"{oops", "not valid JSON"),
    (b"[1, 2]", "no cells"),
    (b'{"nbformat": 9, "cells": []}', "unsupported nbformat"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_parse_submission_refuses(content, message):
    with pytest.raises(NotANotebook, match=message):
        parse_submission(content)


def test_parse_submission_converts_nbformat3(spec):
    v3 = nbformat.convert(copy.deepcopy(submission()), 3)
    nb, notes = parse_submission(nbformat.writes(v3).encode())
    assert notes == ["converted from nbformat 3"]
    assert nb.nbformat == 4 and len(nb.cells) == len(submission().cells)


# ---- sanitizing (OverwriteCells & co.) -----------------------------------------------
def _sanitized(nb, spec):
    parsed, _ = parse_submission(raw(nb))
    return sanitize(parsed, spec)


def test_honest_submission_unchanged(spec):
    nb, notes = _sanitized(submission(), spec)
    assert notes == []
    assert [c.metadata.nbgrader["grade_id"] for c in nb.cells] == spec.order


def test_edited_test_and_points_restored(spec):
    nb = submission()
    nb.cells[cell_index(nb, "q1")].source = "pass"
    nb.cells[cell_index(nb, "q2")].metadata.nbgrader["points"] = 30
    out, notes = _sanitized(nb, spec)
    assert HIDDEN_Q1 in out.cells[cell_index(out, "q1")].source
    assert out.cells[cell_index(out, "q2")].metadata.nbgrader["points"] == 3
    assert "test cell q1 was edited: restored from the source" in notes
    assert "test cell q2 had its points changed: restored from the source" in notes


def test_deleted_test_cell_added_back(spec):
    nb = submission()
    del nb.cells[cell_index(nb, "q1")]
    del nb.cells[cell_index(nb, "a1")]  # nbgrader's own add_missing_cells fails on this
    out, notes = _sanitized(nb, spec)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in out.cells]
    assert ids.index("q1") > ids.index("choice") and ids.index("q1") < ids.index("a2")
    assert "cell q1 was missing: added back from the source" in notes


def test_stripped_metadata_recovered(spec):
    nb = submission()
    for c in nb.cells:
        c.metadata.pop("nbgrader")
    out, notes = _sanitized(nb, spec)
    assert [c.metadata.nbgrader["grade_id"] for c in out.cells] == spec.order
    assert out.cells[cell_index(out, "a1")].source.endswith("x = 2\n### END SOLUTION")
    assert any("was missing and was restored" in n for n in notes)


def test_reordered_duplicated_renamed_corrupted(spec):
    nb = submission()
    q1 = nb.cells.pop(cell_index(nb, "q1"))
    nb.cells.insert(0, q1)
    out, notes = _sanitized(nb, spec)
    assert cell_index(out, "q1") == cell_index(out, "a1") + 1
    assert any("out of order" in n for n in notes)

    nb = submission()
    nb.cells.insert(2, copy.deepcopy(nb.cells[cell_index(nb, "a1")]))
    nb.cells[cell_index(nb, "a2")].metadata.nbgrader["grade_id"] = "mine"
    nb.cells[cell_index(nb, "choice")].metadata.nbgrader["points"] = "many"
    nb.cells[cell_index(nb, "choice")].metadata.nbgrader["grade"] = True
    out, notes = _sanitized(nb, spec)
    assert any("duplicated" in n for n in notes)
    assert any("unknown id 'mine'" in n for n in notes)
    assert any("corrupted nbgrader metadata" in n for n in notes)
    ids = [c.metadata.nbgrader["grade_id"] for c in out.cells
           if "nbgrader" in c.metadata and c.metadata.nbgrader.get("grade_id")]
    # every graded cell is there once; the renamed answer a2 was recognised by
    # its place; "choice" is ambiguous (two unlabelled cells before a1): left alone
    assert sorted(ids) == sorted(set(spec.order) - {"choice"})


# ---- integrity: static scan and snapshot ----------------------------------------------
@pytest.mark.parametrize("source", [
    "import solutions",
    "from solutions import fit_factor_model",
    "import solutions.factor_model as fm",
    "import importlib\nm = importlib.import_module('solutions')",
    "from autograder.checks import _core\n_core.solutions_module()",
    "import numpy as np\nnp.allclose = lambda *a, **k: True",
    "import pandas as pd\npd.Series.var = lambda self, **k: 0.0",
    "import numpy\nsetattr(numpy, 'isclose', print)",
    "from autograder import checks\nchecks.RTOL = 1.0",
    "from autograder import integrity",
    "f.__code__ = g.__code__",
    "import sys\nsys.modules['numpy'] = None",
    "text = open('../exercises/source/alpha-beta/alpha-beta.ipynb').read()",
])
def test_static_scan_flags(source):
    assert integrity.static_scan(source)


@pytest.mark.parametrize("source", [
    "import numpy as np\nx = np.mean([1, 2])",
    "import pandas as pd\npd.options.display.max_rows = 5",
    "import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80",
    "%matplotlib inline\nimport factordata\nr = factordata.excess_returns('daily')",
    "# import solutions  (a comment)\nx = 'my solutions'",
    "from autograder import checks\nchecks.alpha_beta.beta(beta, ticker=TICKER)",
    "def broken(:\n",
])
def test_static_scan_passes_honest_code(source):
    assert integrity.static_scan(source) == []


# ---- reports ---------------------------------------------------------------
def _result(student, q1, q2, status="ok", flags=()):
    qs = [{"id": "q1", "points": q1, "max_points": 2.0, "status": "passed" if q1 == 2 else "failed", "message": ""},
          {"id": "q2", "points": q2, "max_points": 3.0, "status": "passed" if q2 == 3 else "failed", "message": ""},
          {"id": "written", "points": None, "max_points": 1.0, "status": "manual", "message": ""}]
    return {"student": student, "questions": qs, "score": q1 + q2, "max_score": 5.0,
            "manual_pending": 1.0, "status": status, "flags": list(flags)}


def test_grades_csv_and_summary(spec):
    results = [_result("bob", 0.0, 3.0, flags=["flagged: imported the reference module `solutions`"]),
               _result("alice", 2.0, 3.0)]
    text = grades_csv(spec, results)
    assert text == grades_csv(spec, list(reversed(results)))  # sorted, deterministic
    lines = text.splitlines()
    assert lines[0] == ("student,q1,q2,written,autograded_score,autograded_max,manual_score,manual_pending,"
                        "total,max_total,status,flags")
    assert lines[1] == "alice,2,3,,5,5,0,1,5,6,ok,"
    assert lines[2].startswith("bob,0,3,,3,5,0,1,3,6,ok,flagged: imported")
    summary = summary_text(spec, results)
    assert "q1" in summary and "50.0% (1/2)" in summary and "100.0% (2/2)" in summary
    assert "flagged (imported the reference module): 1" in summary and "median 4" in summary
    # a student's text cannot become a spreadsheet formula, nor break the file
    hostile = _result("=HYPERLINK(\"http://x\")", 2.0, 3.0, flags=["@SUM(A1)", "bad \ud800 text"])
    row = grades_csv(spec, [hostile]).splitlines()[1]
    assert row.startswith("\"'=HYPERLINK") and "'@SUM(A1)" in row and "\ufffd" in row
    row.encode("utf-8")


def test_check_json_shape():
    from autograder.grading import Result

    r = Result(assignment="demo", score=2.0, max_score=5.0, questions=[_result("x", 2.0, 0.0)["questions"][0]])
    doc = json.loads(json.dumps(r.public()))
    assert set(doc) == {"assignment", "score", "max_score", "questions", "flags"}
    assert set(doc["questions"][0]) == {"id", "points", "max_points", "status", "message"}
