"""The trusted half of grading on its own: plain data in, verdicts out (fast)."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest

from autograder import judge, sandbox_runner
from autograder.text import clean_str, csv_cell


def roundtrip(value):
    """What the runner exports, as the judge rebuilds it (through JSON)."""
    return judge.decode(json.loads(json.dumps(sandbox_runner.encode(value))))


@pytest.mark.parametrize("value", [1.5, -3, 0, True, "KO", None, [1, 2.5, "a"], ("x", 1)])
def test_plain_values_roundtrip(value):
    assert roundtrip(value) == value


def test_series_and_frames_roundtrip_as_plain_pandas():
    idx = pd.date_range("2020-01-01", periods=5, freq="D")
    s = pd.Series(np.arange(5.0), index=idx, name="r")
    got = roundtrip(s)
    assert type(got) is pd.Series and got.equals(s) and got.name == "r"
    df = pd.DataFrame(np.eye(3), index=["a", "b", "c"], columns=["a", "b", "c"])
    back = roundtrip(df)
    assert type(back) is pd.DataFrame and back.equals(df)
    arr = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(roundtrip(arr), arr)


def test_student_subclasses_arrive_as_plain_types():
    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    class SneakySeries(pd.Series):
        pass

    got = roundtrip(Liar(0.25))
    assert type(got) is float and got == 0.25 and got != 0.3
    assert type(roundtrip(SneakySeries([1.0, 2.0]))) is pd.Series


def test_unreadable_objects_become_opaque_never_code():
    class Boom:
        def __repr__(self):
            raise RuntimeError

    for value in (Boom(), object(), {1, 2}, lambda: 1, np.array(["a", "b"], dtype=object)):
        assert isinstance(roundtrip(value), (judge.Opaque, np.ndarray))


@pytest.mark.parametrize("encoded", [
    {"kind": "array", "npy": "not base64!"},
    {"kind": "array", "npy": base64.b64encode(b"\x93NUMPY garbage").decode()},
    {"kind": "series", "npy": None, "index": {"kind": "labels", "items": [1]}},
    {"kind": "frame", "npy": sandbox_runner._npy(np.ones((2, 2))), "index": {"kind": "labels", "items": [1]},
     "columns": {"kind": "labels", "items": ["a", "b"]}},
    {"kind": "number", "value": {"nested": 1}},
    {"kind": "str", "value": 5},
    {"kind": "what"},
    "not a dict",
])
def test_malformed_exports_are_opaque(encoded):
    assert isinstance(judge.decode(encoded), judge.Opaque)


def test_pickled_arrays_are_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    encoded = {"kind": "array", "npy": base64.b64encode(buf.getvalue()).decode()}
    assert isinstance(judge.decode(encoded), judge.Opaque)


def test_needed_names_and_typed_in():
    code = "from autograder import checks\nchecks.hedging.beta(beta, ticker=TICKER)\nchecks.x(y, n=len(z))"
    assert set(judge.needed_names(code)) == {"beta", "TICKER", "y", "z"}
    typed = judge.typed_in_names(["hedged_beta = 0", "x = -1e-17\ny = float(0.1)\nz = np.mean(a)",
                                  "n = 2 * 5 + 1", "m = 3\nm = compute()", "%matplotlib inline\nk = 1"])
    assert typed == {"hedged_beta", "x", "y", "n", "k"}


def test_partial_credit_per_item_and_weights():
    code = ("assert a == 1, 'a is wrong'\n")
    assert judge._items(code)[1] == [("assert a == 1, 'a is wrong'", None)]
    code = ("from autograder.checks import _core\n"
            "_core.as_number(a, 'a')  # 1 point\n"
            "_core.as_number(b, 'b')  # 2 points\n")
    exports = {"a": sandbox_runner.encode(1.0), "b": sandbox_runner.encode("text")}
    verdict = judge.judge_question(code, exports, 3.0, label="question 1")
    assert verdict.points == 1.0 and verdict.status == "failed" and "b should be a single number" in verdict.message
    blank = judge.judge_question(code, {"a": {"kind": "missing"}, "b": {"kind": "missing"}}, 3.0, label="question 1")
    assert blank.points == 0 and blank.message == "not answered yet: `a`, `b` are not defined"
    raised = judge.judge_question(code, {"a": {"kind": "missing"}, "b": {"kind": "missing"}}, 3.0,
                                  label="question 1", answer_error="KeyError: 252")
    assert "your answer cell for question 1 raised KeyError: 252" in raised.message


def test_typed_in_show_it_answer_earns_nothing():
    code = "from autograder.checks import _core\n_core.require_computed('corr')\n"
    v = judge.judge_question(code, {}, 1.0, label="question 2", typed_in={"corr"})
    assert v.points == 0 and "typed in" in v.message
    assert judge.judge_question(code, {}, 1.0, label="question 2").points == 1.0


def test_text_for_reports():
    assert clean_str("a\ud800b") == "a\ufffdb"
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("@x") == "'@x"
    assert csv_cell("ok\nline") == "ok line"


@pytest.mark.parametrize("markdown", ["<script>alert(1)</script>", "[x](javascript:alert(1))",
                                      "[x](&#106;avascript:alert(1))", "<img src=x onerror=alert(1)>",
                                      "<iframe src='http://x'></iframe>", "<a href='vbscript:x'>a</a>"])
def test_written_answers_carry_nothing_active(markdown):
    from autograder.feedback import safe_markdown

    html = safe_markdown(markdown).lower()
    assert "<script" not in html and "<iframe" not in html and "<img" not in html
    assert "javascript:" not in html.replace("&amp;", "&") or "href" not in html
    assert "onerror=" not in html.replace("&lt;", "<") or "&lt;img" in html


def test_grade_refuses_without_a_sandbox(monkeypatch, tmp_path):
    from autograder import batch, sandbox
    from autograder.course import Course, UserError

    from autograder_demo import make_course

    course = Course(make_course(tmp_path / "course"))
    monkeypatch.setattr(sandbox, "_PROBE", sandbox.Capabilities(None, True, None, "bubblewrap is not installed"))
    with pytest.raises(UserError, match="bubblewrap is not installed.*--no-sandbox"):
        batch.grade(course, "demo", log=lambda *a: None)
