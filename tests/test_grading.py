"""End-to-end grading of the five assignments through the ``autograder`` CLI (issue 4).

One class of submissions per assignment is generated from the real source
and student notebooks (``tests/bad_submissions.py``), graded in one
``autograder grade --jobs 2`` batch per assignment, and a subset is also run
through ``autograder check --json``; every test below reads those results
(notebook executions cost seconds each, so they are shared, not repeated).

Each class holds: the student version filled with the reference code
(``solved``), the source notebook itself (``source``), the blank student
version (``blank``), one submission per question with only that answer wrong
(``wrong-<question>``), one per common mistake (``mistake-<check>``) and, for
five-tickers, three other ticker choices and an answer computed on tickers
other than the declared ones.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

import bad_submissions as bs

pytestmark = pytest.mark.slow

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
ASSIGNMENTS = ["alpha-beta", "hedging", "risk-budgets", "variance-shares", "five-tickers"]

MISTAKES = bs.COMMON_MISTAKES
# Three ticker choices for five-tickers, all different from each other.
FIVE_CHOICES = [
    ["AAPL", "KO", "XOM", "JPM", "PFE"],
    ["AMD", "BAC", "GE", "HD", "MSFT"],
    ["JNJ", "LLY", "MRK", "PEP", "WMT"],
]


def _source(a):
    return bs.read_nb(EXERCISES / "source" / a / f"{a}.ipynb")


def _questions(a):
    try:
        return bs.questions(_source(a))
    except FileNotFoundError:
        return []


def _param_questions():
    return [pytest.param(a, q.grade_id, id=f"{a}-{q.grade_id}") for a in ASSIGNMENTS for q in _questions(a)]


def _param_mistakes():
    return [pytest.param(a, i, id=f"{a}-{m[0]}-{i}") for a in ASSIGNMENTS for i, m in enumerate(MISTAKES[a])]


class Graded:
    """Everything the class batch produced, shared by the tests of this module."""

    def __init__(self, course):
        self.course = course
        self.subs: dict[str, dict[str, bytes]] = {}
        self.qs: dict[str, list[bs.Question]] = {}
        self.grade_procs = {}
        self.grades: dict[str, dict[str, dict]] = {}
        self.checks: dict[tuple[str, str], tuple] = {}

    def points(self, a):
        return {q.grade_id: q.points for q in self.qs[a]}

    def row(self, a, student):
        rows = self.grades[a]
        assert student in rows, f"{student} missing from {a}/grades.csv: {sorted(rows)}"
        return rows[student]


def _class_for(a, course):
    source, release = _source(a), bs.read_nb(bs.release_path(course, a))
    qs = bs.questions(source)
    good = bs.solved(source, release)
    subs = {"solved": good, "source": source, "blank": copy.deepcopy(release)}
    for q in qs:
        if q.checked:
            subs[f"wrong-{q.grade_id}"] = bs.plant_wrong(copy.deepcopy(good), q)
    for i, (fn, expr, _) in enumerate(MISTAKES[a]):
        q = bs.question_for_check(qs, fn)
        var = dict(q.calls)[fn]
        subs[f"mistake-{fn}-{i}"] = bs.plant_expr(copy.deepcopy(good), q, var, expr)
    if a == "five-tickers":
        for i, choice in enumerate(FIVE_CHOICES):
            subs[f"choice-{i}"] = bs.set_choice(copy.deepcopy(good), "TICKERS", choice)
        # the covariance of other stocks, labelled with the declared tickers
        q = bs.question_for_check(qs, "sample_cov")
        nb = bs.set_choice(copy.deepcopy(good), "TICKERS", FIVE_CHOICES[0])
        subs["wrong-choice-ref"] = bs.set_code(nb, q.solution_id, (
            f"_other = excess[{FIVE_CHOICES[1]!r}].cov(ddof=1)\n"
            "sample_cov = pd.DataFrame(_other.to_numpy(), index=TICKERS, columns=TICKERS)"))
    return qs, {k: bs.nb_bytes(v) for k, v in subs.items()}


def _checked_students(a, subs):
    keep = ["source", "blank"] + [s for s in subs if s.startswith(("mistake-", "choice-"))]
    wrong = [s for s in subs if s.startswith("wrong-")]
    return keep + wrong[:1] + (["wrong-choice-ref"] if "wrong-choice-ref" in subs else [])


@pytest.fixture(scope="module")
def graded(course_copy, tmp_path_factory):
    course = course_copy("grading")
    g = Graded(course)
    for a in ASSIGNMENTS:
        g.qs[a], g.subs[a] = _class_for(a, course)
        for student, data in g.subs[a].items():
            bs.submit(course, student, a, data)
    for a in ASSIGNMENTS:
        g.grade_procs[a] = bs.run_autograder("grade", a, "--course", course, "--jobs", 2, "--timeout", 120)
        try:
            g.grades[a] = bs.read_grades(course, a)
        except FileNotFoundError:
            g.grades[a] = {}
    # `check` sees copies somewhere else on disk, under another file name
    outside = tmp_path_factory.mktemp("checks")
    jobs = []
    for a in ASSIGNMENTS:
        for student in _checked_students(a, g.subs[a]):
            path = outside / a / f"{student}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(g.subs[a][student])
            jobs.append((a, student, path))
    with ThreadPoolExecutor(2) as pool:
        results = pool.map(lambda j: bs.check_json(j[2], "--timeout", 120), jobs)
        for (a, student, _), res in zip(jobs, results):
            g.checks[(a, student)] = res
    return g


def _check(g, a, student):
    proc, data = g.checks[(a, student)]
    assert proc.returncode == 0, f"check {a}/{student} exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert data is not None, f"check --json {a}/{student} printed no JSON: {proc.stdout[:500]!r}"
    assert set(data) >= {"assignment", "score", "max_score", "questions", "flags"}, data.keys()
    assert data["assignment"] == a
    return data


def _qjson(data):
    return {q["id"]: q for q in data["questions"]}


# ---------------------------------------------------------------------------
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_source_has_hidden_tests_and_manual_answer(a):
    src = _source(a)
    qs = bs.questions(src)
    assert 4 <= len(qs) <= 8, f"{a}: {len(qs)} autograded questions"
    for q in qs:
        assert q.points > 0 and q.hidden.strip(), f"{a}/{q.grade_id}: no points or no hidden test"
        assert q.calls, f"{a}/{q.grade_id}: hidden test calls no check"
    assert bs.manual_ids(src), f"{a}: no manually graded answer"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_grade_batch_completes(graded, a):
    proc = graded.grade_procs[a]
    assert proc.returncode == 0, f"grade {a} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert set(graded.grades[a]) == set(graded.subs[a])
    header = list(next(iter(graded.grades[a].values())))
    assert header[0] == "student"
    for col in ["autograded_score", "autograded_max", "manual_pending", "status", "flags"]:
        assert col in header
    for q in graded.qs[a]:
        assert q.grade_id in header
    assert (graded.course / "reports" / a / "summary.txt").exists()
    assert (graded.course / "reports" / a / "summary.png").stat().st_size > 1000


@pytest.mark.parametrize("a", ASSIGNMENTS)
@pytest.mark.parametrize("student", ["solved", "source"])
def test_solution_full_marks_grade(graded, a, student):
    row = graded.row(a, student)
    total = sum(graded.points(a).values())
    assert bs.num(row["autograded_max"]) == pytest.approx(total)
    assert bs.num(row["autograded_score"]) == pytest.approx(total), row
    for qid, pts in graded.points(a).items():
        assert bs.num(row[qid]) == pytest.approx(pts), (qid, row)
    assert row["status"] == "ok" and not row["flags"], row
    assert bs.num(row["manual_pending"]) > 0, "the written answer waits for the instructor"


@pytest.mark.parametrize("a", ASSIGNMENTS)
@pytest.mark.parametrize("student", ["source"])
def test_solution_full_marks_check(graded, a, student):
    data = _check(graded, a, student)
    total = sum(graded.points(a).values())
    assert data["max_score"] == pytest.approx(total)
    assert data["score"] == pytest.approx(total), data
    qj = _qjson(data)
    for qid, pts in graded.points(a).items():
        assert qj[qid]["status"] == "passed" and qj[qid]["points"] == pytest.approx(pts), qj[qid]
    manual = [q for q in data["questions"] if q["status"] == "manual"]
    assert {q["id"] for q in manual} == set(bs.manual_ids(_source(a)))
    assert data["flags"] == []


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_blank_grades_to_zero(graded, a):
    row = graded.row(a, "blank")
    assert bs.num(row["autograded_score"]) == 0
    assert bs.num(row["autograded_max"]) == pytest.approx(sum(graded.points(a).values()))
    assert all(bs.num(row[q]) == 0 for q in graded.points(a))
    assert row["status"] == "ok", f"a blank notebook is graded, not an error: {row}"
    data = _check(graded, a, "blank")
    assert data["score"] == 0
    assert all(q["status"] in ("failed", "error") for q in data["questions"] if q["id"] in graded.points(a))


@pytest.mark.parametrize("a,qid", _param_questions())
def test_planted_wrong_answer_loses_that_question_only(graded, a, qid):
    row = graded.row(a, f"wrong-{qid}")
    pts = graded.points(a)
    # Points per item: the wrong item loses its points, the question's other
    # items and every other question (error carried forward) keep theirs.
    assert 0 <= bs.num(row[qid]) < pts[qid], row
    for other, p in pts.items():
        if other != qid:
            assert bs.num(row[other]) == pytest.approx(p), f"{other} lost points: {row}"
    assert bs.num(row["autograded_score"]) == pytest.approx(sum(pts.values()) - pts[qid] + bs.num(row[qid]))


@pytest.mark.parametrize("a,i", _param_mistakes())
def test_common_mistake_gets_its_hint(graded, a, i):
    fn, _, hint = MISTAKES[a][i]
    student = f"mistake-{fn}-{i}"
    q = bs.question_for_check(graded.qs[a], fn)
    row = graded.row(a, student)
    assert bs.num(row[q.grade_id]) < q.points, row  # that item loses its points
    data = _check(graded, a, student)
    message = _qjson(data)[q.grade_id]["message"]
    assert "This matches" in message and hint in message, message
    feedback = bs.feedback_text(graded.course, student, a)
    assert hint in feedback and "This matches" in feedback, f"hint {hint!r} missing from feedback of {student}"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_check_and_grade_agree(graded, a):
    seen = [s for (aa, s) in graded.checks if aa == a]
    assert len(seen) >= 4
    for student in seen:
        data = _check(graded, a, student)
        row = graded.row(a, student)
        assert data["score"] == pytest.approx(bs.num(row["autograded_score"])), (student, data, row)
        assert data["max_score"] == pytest.approx(bs.num(row["autograded_max"])), student
        for qid, q in _qjson(data).items():
            if qid in graded.points(a):
                assert q["points"] == pytest.approx(bs.num(row[qid])), (student, qid, q, row)


@pytest.mark.parametrize("i", range(len(FIVE_CHOICES)))
def test_five_tickers_graded_on_each_choice(graded, i):
    a = "five-tickers"
    row = graded.row(a, f"choice-{i}")
    assert bs.num(row["autograded_score"]) == pytest.approx(sum(graded.points(a).values())), row
    data = _check(graded, a, f"choice-{i}")
    assert data["score"] == data["max_score"], data


def test_five_tickers_answer_for_other_tickers_fails(graded):
    a = "five-tickers"
    q = bs.question_for_check(graded.qs[a], "sample_cov")
    row = graded.row(a, "wrong-choice-ref")
    assert bs.num(row[q.grade_id]) == 0, row
    data = _check(graded, a, "wrong-choice-ref")
    assert _qjson(data)[q.grade_id]["status"] == "failed"
    assert _qjson(data)[q.grade_id]["message"].strip()


def _leaks(text, secrets):
    return sorted(s for s in secrets if s in text)


def test_no_hidden_test_text_reaches_students(graded):
    secrets = set()
    for a in ASSIGNMENTS:
        secrets |= bs.hidden_lines(_source(a))
    assert secrets, "no hidden test lines found in the sources"
    scanned = 0
    for top in ["release", "feedback"]:
        for path in sorted((graded.course / top).rglob("*")):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                assert "BEGIN HIDDEN TESTS" not in text, path
                found = _leaks(bs.normalise(text), secrets) + _leaks(text, secrets)
                assert not found, f"{path} shows hidden test text: {found[:3]}"
                scanned += 1
    assert scanned >= 2 * len(ASSIGNMENTS)
    for (a, student), (proc, _) in graded.checks.items():
        found = _leaks(proc.stdout + proc.stderr, secrets)
        assert not found, f"check output for {a}/{student} shows hidden test text: {found[:3]}"


@pytest.mark.parametrize("name,content", [
    ("notes.txt", b"just some text\n"),
    ("broken.ipynb", b"{ not json"),
    ("empty.ipynb", b""),
])
def test_check_refuses_non_notebooks(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    proc = bs.run_autograder("check", path)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert err and "\n" not in err and "Traceback" not in proc.stderr, proc.stderr


def test_check_refuses_foreign_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\nprint(x)")])
    path = tmp_path / "homework.ipynb"
    path.write_text(nbformat.writes(nb))
    proc = bs.run_autograder("check", path, "--json")
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert err and "\n" not in err and "Traceback" not in proc.stderr, proc.stderr


def test_check_missing_file(tmp_path):
    proc = bs.run_autograder("check", tmp_path / "nope.ipynb")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_collect_imports_both_layouts(course_copy, tmp_path):
    course = course_copy("collect")
    a = "alpha-beta"
    data = bs.nb_bytes(bs.solved(_source(a), bs.read_nb(bs.release_path(course, a))))
    downloads = tmp_path / "downloads"
    (downloads / "bob").mkdir(parents=True)
    (downloads / "alice.ipynb").write_bytes(data)
    (downloads / "bob" / "My Notebook (1).ipynb").write_bytes(data)
    proc = bs.run_autograder("collect", a, downloads, "--course", course)
    assert proc.returncode == 0, proc.stderr
    for student in ["alice", "bob"]:
        path = course / "submitted" / student / a / f"{a}.ipynb"
        assert path.read_bytes() == data, path
    assert not (downloads / "alice.ipynb").read_bytes() != data, "collect must not modify the downloads"
