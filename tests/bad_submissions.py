"""Submissions for the grading tests and benchmark, generated from the real notebooks.

Everything here starts from a course directory's ``source/<name>/<name>.ipynb``
(reference solutions and hidden tests) and ``release/<name>/<name>.ipynb``
(the student version nbgrader generated), so the corpus follows the notebooks
when they change. Three kinds of submissions are built:

* honest ones: the student version with the reference code filled in
  (:func:`solved`), the blank student version, a planted wrong answer per
  question (:func:`plant_wrong`), another ticker choice (:func:`set_choice`);
* the bad-submission corpus of issue 5 (:func:`robustness_corpus`): runaway
  code, dying kernels, mangled cells and metadata, broken files, cheating and
  escaping attempts, each with the outcome the grader must produce
  (:class:`Expect`);
* a downloads folder for ``autograder collect`` with awkward student ids and
  layouts (:func:`collect_corpus`).

Run as a script to write the corpus (one ``submitted/``-style tree) and a
``CORPUS.txt`` listing the cases and their expected outcomes::

    python tests/bad_submissions.py --course exercises --assignment alpha-beta OUT_DIR

The course directory must have been released first (``autograder release``).
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import html
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SOLUTION_RE = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)
WRITTEN_ANSWER = (
    "The single-factor model needs far fewer parameters than the sample covariance, "
    "at the price of ignoring residual correlation between the stocks."
)


# --------------------------------------------------------------------------
# reading notebooks and their nbgrader metadata
# --------------------------------------------------------------------------
def read_nb(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def nb_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def source_path(course, assignment) -> Path:
    return Path(course) / "source" / assignment / f"{assignment}.ipynb"


def release_path(course, assignment) -> Path:
    return Path(course) / "release" / assignment / f"{assignment}.ipynb"


def assignments(course) -> list[str]:
    return sorted(p.name for p in (Path(course) / "source").iterdir() if (p / f"{p.name}.ipynb").exists())


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell) -> str | None:
    return meta(cell).get("grade_id")


def is_solution_code(cell) -> bool:
    return cell.cell_type == "code" and bool(meta(cell).get("solution"))


def is_test(cell) -> bool:
    m = meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_manual(cell) -> bool:
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def index_of(nb, gid: str) -> int:
    for i, cell in enumerate(nb.cells):
        if grade_id(cell) == gid:
            return i
    raise KeyError(f"no cell with grade_id {gid!r}")


def cell_by_id(nb, gid: str):
    return nb.cells[index_of(nb, gid)]


def hidden_parts(source_nb) -> dict[str, str]:
    """grade_id -> text between the hidden-test markers of that test cell."""
    out = {}
    for cell in source_nb.cells:
        found = HIDDEN_RE.findall(cell.source)
        if found and grade_id(cell):
            out[grade_id(cell)] = "\n".join(found)
    return out


def hidden_lines(source_nb, min_len: int = 12) -> set[str]:
    """The non-trivial lines of every hidden test (what must never leak)."""
    lines = set()
    for text in hidden_parts(source_nb).values():
        for line in text.splitlines():
            line = line.strip()
            # imports are trivial ("from autograder import checks"): the
            # secret is the check call and its arguments
            if len(line) >= min_len and not line.startswith(("#", "import ", "from ")):
                lines.add(line)
    return lines


def strip_markers(src: str) -> str:
    return SOLUTION_RE.sub("", src)


@dataclass
class Question:
    """One autograded test cell of a source notebook."""

    grade_id: str
    points: float
    solution_id: str | None  # nearest solution code cell above the test
    checked: list[str]  # variable names passed to the hidden checks
    hidden: str
    calls: list = field(default_factory=list)  # (check function name, first argument name)


def _checked_names(hidden: str) -> list[str]:
    """Names of the variables handed to ``checks....(...)`` calls (first Name argument)."""
    names = []
    try:
        tree = ast.parse(hidden)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in node.args:
                if isinstance(arg, ast.Name) and arg.id not in names and arg.id not in ("checks",):
                    names.append(arg.id)
                    break
    return names


def _check_calls(hidden: str) -> list[tuple[str, str | None]]:
    """``checks.<module>.<fn>(<name>, ...)`` calls as (fn, name)."""
    out = []
    try:
        tree = ast.parse(hidden)
    except SyntaxError:
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            arg = node.args[0].id if node.args and isinstance(node.args[0], ast.Name) else None
            out.append((node.func.attr, arg))
    return out


def question_for_check(qs: list[Question], fn: str) -> Question:
    """The question whose hidden test calls the check function ``fn``."""
    for q in qs:
        if any(f == fn for f, _ in q.calls):
            return q
    raise KeyError(f"no hidden test calls checks.*.{fn}")


def questions(source_nb) -> list[Question]:
    hidden = hidden_parts(source_nb)
    out = []
    last_solution = None
    for cell in source_nb.cells:
        if is_solution_code(cell):
            last_solution = grade_id(cell)
        elif is_test(cell):
            gid = grade_id(cell)
            out.append(Question(gid, float(meta(cell).get("points", 0)), last_solution,
                                _checked_names(hidden.get(gid, "")), hidden.get(gid, ""),
                                _check_calls(hidden.get(gid, ""))))
    return out


def manual_ids(source_nb) -> list[str]:
    return [grade_id(c) for c in source_nb.cells if is_manual(c)]


# --------------------------------------------------------------------------
# honest submissions and single edits
# --------------------------------------------------------------------------
def solved(source_nb, release_nb):
    """The student version with every solution cell filled in from the source.

    Code cells get the reference code without the solution markers; written
    answers get a plausible paragraph. This is what an honest, fully correct
    student hands in.
    """
    nb = copy.deepcopy(release_nb)
    src = {grade_id(c): c for c in source_nb.cells if grade_id(c)}
    for cell in nb.cells:
        gid = grade_id(cell)
        if not gid or not meta(cell).get("solution"):
            continue
        if cell.cell_type == "code":
            cell.source = strip_markers(src[gid].source).rstrip("\n")
        else:
            cell.source = WRITTEN_ANSWER
    return nb


def set_code(nb, gid: str, code: str):
    cell_by_id(nb, gid).source = code
    return nb


def append_code(nb, gid: str, code: str):
    cell = cell_by_id(nb, gid)
    cell.source = cell.source.rstrip("\n") + "\n" + code
    return nb


def prepend_code(nb, gid: str, code: str):
    cell = cell_by_id(nb, gid)
    cell.source = code + "\n" + cell.source
    return nb


def insert_after(nb, gid: str, code: str):
    """Insert a plain (no nbgrader metadata) code cell right after the cell ``gid``."""
    nb.cells.insert(index_of(nb, gid) + 1, nbformat.v4.new_code_cell(code))
    return nb


def next_solution_after(nb, gid: str) -> str | None:
    for cell in nb.cells[index_of(nb, gid) + 1:]:
        if is_solution_code(cell):
            return grade_id(cell)
    return None


PERTURB = '''
def _planted_wrong(x):
    """A clearly wrong value of the same kind (planted by the test corpus)."""
    import numpy as _np
    import pandas as _pd
    if isinstance(x, (bool, _np.bool_)):
        return not x
    try:
        if isinstance(x, (int, float, _np.number, _np.ndarray, _pd.Series, _pd.DataFrame)):
            return x * 1.5 + 0.37
        if isinstance(x, dict):
            return {k: _planted_wrong(v) for k, v in x.items()}
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*[_planted_wrong(v) for v in x])
        if isinstance(x, (list, tuple)):
            return type(x)(_planted_wrong(v) for v in x)
    except Exception:
        pass
    return None
'''


def plant_wrong(nb, q: Question):
    """Make question ``q``'s answer wrong, and only that question's.

    The first variable its hidden checks read is replaced by a wrong value at
    the end of its solution cell and restored at the start of the next
    solution cell, so later questions still see the right value.
    """
    if not q.checked or not q.solution_id:
        raise ValueError(f"cannot plant a wrong answer for {q.grade_id}: no checked variable found")
    var = q.checked[0]
    append_code(nb, q.solution_id, PERTURB + f"_planted_{var} = {var}\n{var} = _planted_wrong({var})")
    nxt = next_solution_after(nb, q.grade_id)
    if nxt:
        prepend_code(nb, nxt, f"{var} = _planted_{var}")
    return nb


def plant_expr(nb, q: Question, var: str, expr: str):
    """Replace ``var`` by ``expr`` (``{v}`` is the right value) for question ``q`` only.

    Used to reproduce a common mistake (``"{v} * 100"``: percent instead of
    decimal) the way a student would make it, restored for later questions.
    """
    code = f"_planted_{var} = {var}\n{var} = " + expr.format(v=f"_planted_{var}")
    append_code(nb, q.solution_id, code)
    nxt = next_solution_after(nb, q.grade_id)
    if nxt:
        prepend_code(nb, nxt, f"{var} = _planted_{var}")
    return nb


def choice_cell(nb, name: str) -> str:
    """grade_id of the solution cell assigning the student choice ``name`` (TICKER/TICKERS)."""
    pat = re.compile(rf"^{name}\s*=", re.MULTILINE)
    for cell in nb.cells:
        if is_solution_code(cell) and pat.search(cell.source):
            return grade_id(cell)
    raise KeyError(f"no solution cell assigns {name}")


def set_choice(nb, name: str, value):
    """Replace the student's ``NAME = ...`` line (TICKER or TICKERS) with ``value``."""
    cell = cell_by_id(nb, choice_cell(nb, name))
    pat = re.compile(rf"^{name}\s*=.*?$", re.MULTILINE)
    # the assignment may span several lines (a list); replace the whole statement
    tree = ast.parse(cell.source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            lines = cell.source.splitlines()
            before = lines[: node.lineno - 1]
            after = lines[node.end_lineno:]
            cell.source = "\n".join(before + [f"{name} = {value!r}"] + after)
            return nb
    cell.source = pat.sub(f"{name} = {value!r}", cell.source, count=1)
    return nb


# Common mistakes, made in the student's own kernel from the right answer:
# (check function the hidden test calls, expression of the right value {v},
#  words the hint must contain). Each is one of the classic slips of
# solutions.mistakes: raw instead of excess returns, daily data annualized
# with 12, percent instead of decimal, variance with ddof=0.
N_DAILY = "len(__import__('factordata').excess_returns('daily'))"
RAW_BETA = (
    "(lambda _x, _rf: float(__import__('numpy').polyfit(_x['MKT'] + _rf, _x[TICKER] + _rf, 1)[0]))"
    "(__import__('factordata').excess_returns('daily'), "
    "__import__('factordata').risk_free('daily').reindex(__import__('factordata').excess_returns('daily').index))"
)
RAW_COV = (
    "(lambda _x, _rf: _x[list(TICKERS)].add(_rf, axis=0).cov())"
    "(__import__('factordata').excess_returns('daily'), "
    "__import__('factordata').risk_free('daily').reindex(__import__('factordata').excess_returns('daily').index))"
)
DDOF0 = "{v} * (%s - 1) / %s" % (N_DAILY, N_DAILY)
COMMON_MISTAKES = {
    "alpha-beta": [
        ("beta", RAW_BETA, "raw returns instead of excess returns"),
        ("alpha_annual", "{v} * 12 / 252", "with 12"),
        ("var_e", DDOF0, "ddof=0"),
        ("r2", "{v} * 100", "percent"),
    ],
    "hedging": [
        ("pnl_annual", "{v} * 12 / 252", "with 12"),
        ("hedged_var", DDOF0, "ddof=0"),
        ("hedged_mean", "{v} * 100", "percent"),
    ],
    "risk-budgets": [
        ("sharpe_unhedged", "{v} * (12 / 252) ** 0.5", "sqrt(12)"),
        ("sigma_r", "{v} * 100", "percent"),
    ],
    "variance-shares": [
        ("factor_share", "{v} * 100", "percent"),
        ("var_idio", DDOF0, "ddof=0"),
    ],
    "five-tickers": [
        ("sample_cov", DDOF0, "ddof=0"),
        ("sample_cov", RAW_COV, "raw returns instead of excess returns"),
        ("implied_cov", "{v} * 252", "annualized"),
    ],
}


def five_ticker_class(course, n: int = 60, seed: int = 0) -> dict[str, bytes]:
    """A class of ``n`` five-tickers submissions: {student: notebook bytes}.

    Every student picks five random tickers; one in three is fully correct,
    the others have one or two planted wrong answers, and one student per
    common mistake of :data:`COMMON_MISTAKES` makes that mistake. Honest
    work only (no hostile code), so stock nbgrader can grade it the same.
    """
    import random

    rng = random.Random(seed)
    a = "five-tickers"
    source, release = read_nb(source_path(course, a)), read_nb(release_path(course, a))
    qs = questions(source)
    good = solved(source, release)
    universe = ["AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK",
                "MSFT", "PEP", "PFE", "PG", "UNH", "WMT", "XOM"]
    mistakes = COMMON_MISTAKES[a]
    out = {}
    for i in range(n):
        nb = set_choice(copy.deepcopy(good), "TICKERS", rng.sample(universe, 5))
        if i < len(mistakes):
            fn, expr, _ = mistakes[i]
            q = question_for_check(qs, fn)
            plant_expr(nb, q, dict(q.calls)[fn], expr)
        elif i % 3:
            wrong = [q for q in qs if q.checked and q.solution_id]
            for q in sorted(rng.sample(wrong, 1 + (i % 2)), key=lambda q: qs.index(q)):
                plant_wrong(nb, q)
        out[f"student-{i:03d}"] = nb_bytes(nb)
    return out


# --------------------------------------------------------------------------
# the bad-submission corpus (issue 5)
# --------------------------------------------------------------------------
@dataclass
class Expect:
    """What the grader must make of a submission.

    score: "full" (all autograded points), "zero", "less" (strictly less than
    full), or None (not asserted beyond 0 <= score <= max).
    full / zero: question ids that must get all / no points.
    ok: True -> status is "ok"; False -> status is not "ok"; None -> either.
    flag: regex that must match ``status + flags`` (case-insensitive).
    clean: no flags at all.
    """

    why: str
    score: str | None = None
    full: list[str] = field(default_factory=list)
    zero: list[str] = field(default_factory=list)
    ok: bool | None = None
    flag: str | None = None
    clean: bool = False


@dataclass
class Case:
    name: str  # also the student id
    files: dict  # path relative to submitted/<student>/<assignment>/ -> bytes
    expect: Expect
    escape_marker: str | None = None  # file name the submission tries to create


def robustness_corpus(course, assignment: str, *, output_mb: int = 40,
                      memory_cap_mb: int = 1024, escape_root: str | None = None) -> list[Case]:
    """The bad submissions of issue 5 for one assignment, with expected outcomes.

    ``output_mb`` sizes the flood of printed output (keep it above the
    grader's output cap); ``memory_cap_mb`` the memory the hog tries to take
    (it stops at 3x the cap so that a missing cap cannot take the machine);
    ``escape_root`` is the absolute course directory the escaping submissions
    try to write into (the worst case: the student knows the path).
    """
    course = Path(course)
    escape_root = str(escape_root or course.resolve())
    source = read_nb(source_path(course, assignment))
    release = read_nb(release_path(course, assignment))
    qs = questions(source)
    ids = [q.grade_id for q in qs]
    first, last = qs[0], qs[-1]
    good = solved(source, release)
    A = assignment
    nbname = f"{A}.ipynb"

    def case(name, nb, expect, raw=None, filename=nbname, **kw):
        data = raw if raw is not None else nb_bytes(nb)
        return Case(name, {filename: data}, expect, **kw)

    def variant():
        return copy.deepcopy(good)

    cases = [case("control-a", variant(), Expect("honest, correct", score="full", ok=True, clean=True))]

    # ---- runaway code: per-cell timeout, the rest still graded ----
    nb = insert_after(variant(), first.grade_id, "while True:\n    pass")
    cases.append(case("infinite-loop", nb, Expect(
        "busy loop in an extra cell after the first question: interrupted at the cell timeout, "
        "every question still graded", score="full", full=ids, flag="time")))
    nb = insert_after(variant(), first.grade_id,
                      "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                      "while True:\n    time.sleep(0.01)")
    cases.append(case("ignores-interrupt", nb, Expect(
        "loop that ignores SIGINT: the kernel is killed at the timeout, replaced, and the "
        "rest of the notebook still graded", score="full", full=ids, flag="time")))

    # ---- dying kernels ----
    for name, code in [("os-exit", "import os\nos._exit(3)"),
                       ("segfault", "import ctypes\nctypes.string_at(0)")]:
        nb = insert_after(variant(), first.grade_id, code)
        cases.append(case(name, nb, Expect(
            f"kernel dies ({code.splitlines()[-1]}) in an extra cell after the first question: "
            "kernel replaced, every question still graded, flagged", score="full", full=ids,
            flag="kernel|died|crash")))
    nb = insert_after(variant(), first.grade_id, "import sys\nsys.exit(1)")
    cases.append(case("sys-exit", nb, Expect(
        "sys.exit() in an extra cell: IPython turns it into an error in that cell only, "
        "every question still graded", score="full", full=ids)))
    hog_steps = max(1, 3 * memory_cap_mb // 100)
    nb = insert_after(variant(), first.grade_id,
                      "def hog():\n    chunks = []\n"
                      f"    for _ in range({hog_steps}):\n"
                      "        chunks.append(bytearray(100_000_000))\n    return len(chunks)\nhog()")
    cases.append(case("memory-hog", nb, Expect(
        f"allocates 100 MB chunks (address space) up to 3x the memory cap: stopped by the cap "
        "(MemoryError or a "
        "dead kernel), every question still graded, flagged", score="full", full=ids,
        flag="memory")))

    # ---- flood of output ----
    mb_line = "x" * 999
    nb = insert_after(variant(), first.grade_id,
                      f"for _ in range({output_mb} * 1000):\n    print({mb_line!r})")
    cases.append(case("output-flood", nb, Expect(
        f"prints {output_mb} MB: output truncated, every question still graded, flagged",
        score="full", full=ids, flag="output")))

    # ---- mangled cells and metadata (honest content: full marks) ----
    nb = variant()
    nb.cells = [c for c in nb.cells if grade_id(c) != first.grade_id]
    cases.append(case("deleted-test-cell", nb, Expect(
        "a test cell deleted: restored from the source, full marks", score="full", full=ids)))
    nb = variant()
    nb.cells = [c for c in nb.cells if c.cell_type != "markdown" or meta(c)] + \
               [c for c in nb.cells if c.cell_type == "markdown" and not meta(c)]
    cases.append(case("reordered-cells", nb, Expect(
        "instruction cells moved to the end: full marks", score="full", full=ids)))
    nb = variant()
    i = index_of(nb, first.grade_id)
    nb.cells.insert(i + 1, _duplicate(nb.cells[i]))
    j = index_of(nb, first.solution_id)
    nb.cells.insert(j + 1, _duplicate(nb.cells[j]))
    cases.append(case("duplicated-cells", nb, Expect(
        "a solution cell and a test cell duplicated: each question counted once, full marks",
        score="full", full=ids)))
    nb = variant()
    cell_by_id(nb, first.grade_id).metadata.nbgrader["grade_id"] = first.grade_id + "-renamed"
    cases.append(case("renamed-test-cell", nb, Expect(
        "a test cell's grade_id renamed: the real test is restored, full marks, no extra question",
        score="full", full=ids)))
    nb = variant()
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
    cases.append(case("metadata-stripped", nb, Expect(
        "all nbgrader metadata stripped (e.g. copied into a new notebook): tests restored, "
        "full marks", score="full", full=ids)))
    nb = variant()
    plant_wrong(nb, first)
    cell_by_id(nb, first.grade_id).source = "pass"
    cases.append(case("edited-tests", nb, Expect(
        "wrong answer with its test cell replaced by `pass`: test restored, that question 0",
        zero=[first.grade_id], full=ids[1:])))
    nb = variant()
    for c in nb.cells:
        if is_test(c):
            c.metadata.nbgrader["points"] = 100
    cases.append(case("edited-points", nb, Expect(
        "points raised to 100 in every test cell: points restored (max unchanged), full marks",
        score="full", full=ids)))

    # ---- broken files ----
    cases.append(case("not-json", None, Expect(
        "file is not JSON: graded 0 with an error status", score="zero", ok=False),
        raw=b"this is not a notebook {\n"))
    cases.append(case("empty-file", None, Expect(
        "empty file: graded 0 with an error status", score="zero", ok=False), raw=b""))
    v3 = nbformat.convert(copy.deepcopy(good), 3)
    cases.append(case("nbformat3", None, Expect(
        "correct answers saved as an nbformat 3 notebook: upgraded, full marks", score="full"),
        raw=nbformat.writes(v3, version=3).encode()))
    cases.append(case("wrong-file-name", variant(), Expect(
        f"correct notebook saved as homework.ipynb instead of {nbname}: graded under its assignment "
        "or reported; never crashes the batch"), filename="homework.ipynb"))
    cases.append(Case("two-notebooks", {nbname: nb_bytes(variant()),
                                        "copy.ipynb": nb_bytes(blank_of(release))},
                      Expect(f"{nbname} plus a second notebook: {nbname} graded, full marks",
                             score="full")))

    # ---- cheating: flagged, no points for the affected question ----
    sol_src = strip_markers(cell_by_id(source, first.solution_id).source)
    code = "import solutions  # cheat\n" + sol_src
    nb = set_code(variant(), first.solution_id, code)
    cases.append(case("imports-solutions", nb, Expect(
        "imports the reference module: flagged, no points for the affected questions",
        zero=[first.grade_id], flag="solution")))
    nb = set_code(variant(), first.solution_id,
                  "import importlib\n_s = importlib.import_module('sol' + 'utions')\n" + sol_src)
    cases.append(case("imports-solutions-hidden", nb, Expect(
        "imports the reference module through importlib: flagged, no points for the affected questions",
        zero=[first.grade_id], flag="solution")))
    reader = (
        "import json, glob, os\n"
        "_found = {}\n"
        f"for _p in glob.glob({escape_root!r} + '/**/*.ipynb', recursive=True) + "
        "glob.glob('../**/*.ipynb', recursive=True):\n"
        "    try:\n"
        "        _found[_p] = json.load(open(_p))\n"
        "    except Exception:\n"
        "        pass\n"
        "_src = [nb for p, nb in _found.items() if 'BEGIN SOLUTION' in json.dumps(nb)]\n"
        "assert _src, 'could not read the source notebook'\n"
        "_cells = {c['metadata'].get('nbgrader', {}).get('grade_id'): ''.join(c['source']) "
        "for c in _src[0]['cells']}\n"
        f"exec(_cells[{first.solution_id!r}])\n"
    )
    nb = set_code(variant(), first.solution_id, reader)
    cases.append(case("reads-source", nb, Expect(
        "reads the source notebook and executes its solution: cannot read it, or flagged; no points "
        "for that question", zero=[first.grade_id])))
    nb = set_code(variant(), first.solution_id,
                  "import json\n"
                  f"_rel = json.load(open({str(Path(escape_root) / 'release' / A / nbname)!r}))\n"
                  + sol_src)
    cases.append(case("reads-release", nb, Expect(
        "opens the release notebook of the course: cannot read it, or flagged; no points for that "
        "question", zero=[first.grade_id])))
    patches = {
        "patches-numpy": "import numpy as np\nnp.isclose = lambda *a, **k: True\n"
                         "np.allclose = lambda *a, **k: True\n"
                         "np.testing.assert_allclose = lambda *a, **k: None",
        "patches-pandas": "import pandas as pd\npd.testing.assert_series_equal = lambda *a, **k: None\n"
                          "pd.testing.assert_frame_equal = lambda *a, **k: None\n"
                          "pd.Series.equals = lambda *a, **k: True",
        "patches-checks": "import importlib, inspect, pkgutil, sys\n"
                          "import autograder, autograder.checks as _c\n"
                          "_mods = [_c] + [importlib.import_module(_c.__name__ + '.' + m.name) "
                          "for m in pkgutil.iter_modules(getattr(_c, '__path__', []))]\n"
                          "_mods += [m for n, m in list(sys.modules.items()) if n.startswith('autograder')]\n"
                          "for _m in _mods:\n"
                          "    for _n, _o in list(vars(_m).items()):\n"
                          "        if inspect.isfunction(_o):\n"
                          "            setattr(_m, _n, lambda *a, **k: None)\n"
                          "        elif inspect.ismodule(_o) and _o.__name__.startswith('autograder'):\n"
                          "            for _n2, _o2 in list(vars(_o).items()):\n"
                          "                if inspect.isfunction(_o2):\n"
                          "                    setattr(_o, _n2, lambda *a, **k: None)\n",
    }
    for name, patch in patches.items():
        nb = variant()
        plant_wrong(nb, first)
        append_code(nb, first.solution_id, patch)
        cases.append(case(name, nb, Expect(
            f"wrong answer plus code that patches {name.split('-')[1]} to make checks pass: flagged, "
            "no points for that question", zero=[first.grade_id], flag="tamper|patch|modif")))

    # ---- escaping its folder ----
    marker = "ESCAPED_BY_STUDENT"
    root = escape_root
    escape = (
        "import os, glob, sqlite3\n"
        f"_root = {root!r}\n"
        "_targets = []\n"
        "for _d in ['', 'source', 'release', 'submitted', 'autograded', 'feedback', 'reports']:\n"
        "    _targets.append(os.path.join(_root, _d, " + repr(marker) + "))\n"
        "_targets += [os.path.join('..', " + repr(marker) + "), os.path.join('..', '..', " + repr(marker) + ")]\n"
        "for _t in _targets:\n"
        "    try:\n"
        "        open(_t, 'w').write('pwned')\n"
        "    except Exception:\n"
        "        pass\n"
        "for _p in glob.glob(os.path.join(_root, 'submitted', '*', '*', '*.ipynb')) + "
        "glob.glob(os.path.join(_root, 'source', '*', '*.ipynb')):\n"
        "    try:\n"
        "        open(_p, 'a').write('pwned')\n"
        "    except Exception:\n"
        "        pass\n"
        "try:\n"
        "    _db = sqlite3.connect(os.path.join(_root, 'gradebook.db'))\n"
        f"    _db.execute('create table {marker} (x)')\n"
        "    _db.commit()\n"
        "except Exception:\n"
        "    pass\n"
    )
    nb = insert_after(variant(), first.grade_id, escape)
    cases.append(case("writes-outside", nb, Expect(
        "tries to write into the course directory, other students' submissions and the gradebook: "
        "nothing outside its own folder changes; its own answers still graded", full=[first.grade_id]),
        escape_marker=marker))
    return cases


def _duplicate(cell):
    """A copy of ``cell`` (same grade_id) with its own nbformat cell id, as Jupyter's copy/paste makes."""
    dup = copy.deepcopy(cell)
    if "id" in dup:
        dup["id"] = (str(dup["id"]) + "-copy")[-64:]
    return dup


def blank_of(release_nb):
    return copy.deepcopy(release_nb)


# --------------------------------------------------------------------------
# a downloads folder for `autograder collect`
# --------------------------------------------------------------------------
def collect_corpus(correct: bytes) -> tuple[dict, int, list[str]]:
    """(files, n_students, reported): a learning-platform download with awkward names.

    ``files`` maps a relative path to bytes. ``n_students`` is the number of
    distinct students ``collect`` must import; ``reported`` are names its
    report must mention (what it skipped). Sanitised ids follow the grader's
    documented rule, so the test checks their properties (safe, distinct)
    rather than exact spellings.
    """
    files = {
        "alice.ipynb": correct,  # <student>.ipynb
        "bob/whatever name.ipynb": correct,  # <student>/<any>.ipynb
        "Carol Smith.ipynb": correct,  # spaces
        "José Müller.ipynb": correct,  # non-ASCII
        "学生.ipynb": correct,  # non-ASCII only
        "..evil.ipynb": correct,  # leading dots
        "a..b.ipynb": correct,  # dots inside
        "back\\slash.ipynb": correct,  # a path separator on Windows
        "-rf.ipynb": correct,  # looks like an option
        "dave/one.ipynb": correct,  # two notebooks for one student: one taken
        "dave/two.ipynb": correct,
        "Anna Müller.ipynb": correct,  # two students, one sanitised id: both kept (Anna_Muller-2)
        "Anna_Muller/nb.ipynb": correct,
        "erin/notes.txt": b"not a notebook",  # nothing to import
        "readme.txt": b"platform export",
    }
    return files, 12, ["two.ipynb", "erin", "Anna_Muller-2"]


# --------------------------------------------------------------------------
# driving the CLI and reading its results (shared by the tests and the benchmark)
# --------------------------------------------------------------------------
def run_autograder(*args, timeout: float = 1800, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m autograder ARGS...`` and capture its output (never raises on exit code)."""
    cmd = [sys.executable, "-m", "autograder", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def check_json(path, *extra, timeout: float = 600) -> tuple[subprocess.CompletedProcess, dict | None]:
    proc = run_autograder("check", path, "--json", *extra, timeout=timeout)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    return proc, data


def read_grades(course, assignment) -> dict[str, dict]:
    """grades.csv as {student: row}; numeric columns stay strings (compare with float())."""
    path = Path(course) / "reports" / assignment / "grades.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def num(value) -> float:
    return float(value) if value not in (None, "") else 0.0


def feedback_text(course, student, assignment) -> str:
    """All feedback HTML of one student, unescaped, ANSI codes removed, whitespace collapsed."""
    folder = Path(course) / "feedback" / student / assignment
    parts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("**/*.html"))]
    return normalise(html.unescape("\n".join(parts)))


ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", ANSI_RE.sub("", text))


def submit(course, student: str, assignment: str, nb_or_bytes, filename: str | None = None) -> Path:
    """Place a submission where nbgrader expects it: submitted/<student>/<assignment>/<name>.ipynb."""
    folder = Path(course) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{assignment}.ipynb")
    data = nb_or_bytes if isinstance(nb_or_bytes, bytes) else nb_bytes(nb_or_bytes)
    path.write_bytes(data)
    return path


def write_case(case: Case, submitted: Path, assignment: str):
    folder = Path(submitted) / case.name / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in case.files.items():
        (folder / rel).write_bytes(data)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write submitted/<student>/<assignment>/ into")
    ap.add_argument("--course", type=Path, default=Path(__file__).resolve().parents[1] / "exercises")
    ap.add_argument("--assignment", default="alpha-beta")
    ap.add_argument("--output-mb", type=int, default=300)
    ap.add_argument("--memory-cap-mb", type=int, default=2048)
    args = ap.parse_args(argv)
    if not release_path(args.course, args.assignment).exists():
        ap.error(f"{release_path(args.course, args.assignment)} missing: run `autograder release` first")
    cases = robustness_corpus(args.course, args.assignment, output_mb=args.output_mb,
                              memory_cap_mb=args.memory_cap_mb)
    lines = []
    for c in cases:
        write_case(c, args.out / "submitted", args.assignment)
        lines.append(f"{c.name:26s} {c.expect.why}")
    files, _, _ = collect_corpus(nb_bytes(solved(read_nb(source_path(args.course, args.assignment)),
                                                     read_nb(release_path(args.course, args.assignment)))))
    for rel, data in files.items():
        p = args.out / "downloads" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (args.out / "CORPUS.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"{len(cases)} cases in {args.out / 'submitted'}; collect corpus in {args.out / 'downloads'}")


if __name__ == "__main__":
    sys.exit(main())
