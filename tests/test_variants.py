"""Per-student variants: each student's own parameters, and grading on them.

Off by default (the course's own configuration sets nothing: every test
elsewhere grades the defaults). Here: the parameters are a pure function of
(class seed, assignment, student id); every parameter any id can get gives a
well-posed problem on every ticker; the checks grade on the graded student's
parameters and reject a classmate's; and one assignment end to end through
``autograder release`` and ``autograder grade``, with a copied notebook.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import bad_submissions as bs
import factordata
import solutions
from autograder import variants as av
from autograder.checks import _core, _params
from autograder.checks import alpha_beta as AB
from autograder.checks import hedging as HG
from autograder.checks import risk_budgets as RB
from autograder.checks import variance_shares as VS
from autograder.course import Course, UserError
from factordata import variants as fv

SEED = "factor-models-test-seed"
IDS = [f"s{k:05d}" for k in range(400)]
EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


# ---- the parameters ---------------------------------------------------------------
def test_off_by_default():
    names, seed = av.settings(Course(EXERCISES).config)
    assert names == frozenset() and seed is None
    for a in fv.DEFAULTS:
        assert fv.derive(a, "anyone") == fv.DEFAULTS[a]
        p = factordata.assignment_parameters(a, "", show=False)
        assert {k: v for k, v in p.items() if k != "student_id"} == fv.DEFAULTS[a]


def test_deterministic_and_keyed():
    for a in fv.DEFAULTS:
        first = [fv.derive(a, i, SEED) for i in IDS[:50]]
        assert first == [fv.derive(a, i, SEED) for i in IDS[:50]]  # same run
        assert len({json.dumps(p, sort_keys=True) for p in first}) > 5  # ids differ
        assert first != [fv.derive(a, i, SEED + "x") for i in IDS[:50]]  # the seed matters
    # a fixed value, so that a change of the derivation (which would change
    # every student's parameters mid-term) fails here, on any machine
    assert fv.derive("risk-budgets", "s1", "x") == {"start": "2000", "end": "2012", "budget": 470000}
    assert fv.derive("hedging", "Anna Müller", SEED) == fv.derive("hedging", "anna_muller", SEED)
    with pytest.raises(ValueError, match="STUDENT_ID"):
        fv.derive("hedging", "  ", SEED)


def test_settings_are_checked():
    with pytest.raises(UserError, match="variant_seed"):
        av.settings({"Autograder": {"variants": ["hedging"]}})
    with pytest.raises(UserError, match="many-factors"):
        av.settings({"Autograder": {"variants": ["many-factors"], "variant_seed": "x"}})
    assert av.seed_for({"Autograder": {"variants": ["hedging"], "variant_seed": " s "}}, "hedging") == "s"
    assert av.seed_for({"Autograder": {"variants": ["hedging"], "variant_seed": "s"}}, "alpha-beta") is None


# ---- well-posed for every id and ticker -------------------------------------------
def _all_windows():
    """Every window any student can get (the derivation draws from these)."""
    return {(fv.derive(a, i, SEED)["start"], fv.derive(a, i, SEED)["end"])
            for a in ("alpha-beta", "hedging", "risk-budgets") for i in IDS}


def test_windows_cover_the_allowed_range_only():
    windows = _all_windows()
    assert len(windows) > 60
    for start, end in windows:
        years = int(end) - int(start) + 1
        assert fv.FIRST_YEAR <= int(start) and int(end) <= fv.LAST_YEAR and years in fv.WINDOW_YEARS


def test_every_window_well_posed_on_every_ticker():
    """Every window: about 2,000+ days, a positive beta below 3 that the data
    pins down, a hedge that lowers the volatility, and a positive mean
    risk-free rate (the cash freed earns interest), on all 19 tickers."""
    data = factordata.excess_returns("daily")
    rf = factordata.risk_free("daily")
    for start in range(fv.FIRST_YEAR, fv.LAST_YEAR - fv.WINDOW_YEARS[0] + 2):
        for years in fv.WINDOW_YEARS:
            end = start + years - 1
            if end > fv.LAST_YEAR:
                continue
            x = data.loc[str(start):str(end)]
            assert len(x) >= 1990 and rf.loc[str(start):str(end)].mean() > 0
            f = x[factordata.MARKET]
            r = x[factordata.tickers()]
            beta = r.apply(lambda s: s.cov(f)) / f.var()
            resid_var = r.var() - beta**2 * f.var()
            assert ((beta > 0.1) & (beta < 3)).all(), (start, end)
            assert (resid_var > 0).all() and (resid_var < r.var()).all()
            assert (beta**2 * f.var() / r.var() > 0.03).all()


def test_every_risk_share_limit_needs_a_real_hedge():
    """Every limit a student can get is below every stock's factor share, in the
    full sample and in both periods, so every hedge is a real (negative) short."""
    vbars = {fv.derive("variance-shares", i, SEED)["vbar"] for i in IDS}
    assert vbars == set(fv.VBARS)
    data = factordata.excess_returns("daily")
    for start, end in [(None, None), *VS.PERIODS.values()]:
        x = data.loc[start:end]
        for t in factordata.tickers():
            fit = solutions.fit_factor_model(x[t], x[factordata.MARKET])
            share = solutions.variance_decomposition(fit.beta, fit.var_f, fit.var_e).factor_share
            assert share > max(vbars)
            h = solutions.hedge_for_risk_share(max(vbars), fit.beta, fit.var_f, fit.var_e)
            assert -fit.beta < h < 0


def test_budgets_and_notionals_are_round_dollars():
    for i in IDS[:100]:
        assert fv.derive("risk-budgets", i, SEED)["budget"] % 10_000 == 0
        assert fv.derive("hedging", i, SEED)["notional"] % 250_000 == 0


# ---- the checks grade on the graded student's parameters ----------------------------
def _judge(student, seed=SEED):
    """What the judge sets while it runs a question's hidden tests."""
    return _core.JUDGE_CONTEXT.set({"typed_in": frozenset(), "mistakes": [],
                                    "variants": {"seed": seed, "student": student}})


def _p(assignment, student, seed=SEED):
    return factordata.assignment_parameters(assignment, student, class_seed=seed, show=False)


def _answers_rb(ticker, p):
    """A correct risk-budgets student's sizes on parameters ``p``."""
    r = factordata.excess_returns("daily").loc[p["start"]:p["end"], ticker]
    sigma_r = float(r.std(ddof=1))
    return sigma_r, pd.Series({n: p["budget"] / (sigma_r * math.sqrt(n)) for n in (1, 21, 252)})


def _fails(fn, *args, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kw)
    return str(info.value)


def test_own_work_passes_and_a_classmates_numbers_fail():
    alice, bob = _p("risk-budgets", "alice"), _p("risk-budgets", "bob")
    assert (alice["start"], alice["budget"]) != (bob["start"], bob["budget"])
    sig_a, sizes_a = _answers_rb("KO", alice)
    sig_b, sizes_b = _answers_rb("KO", bob)
    token = _judge("bob")
    try:
        RB.sigma_r(sig_b, ticker="KO", params=bob)
        RB.sizes_unhedged(sizes_b, ticker="KO", sigma_r=sig_b, params=bob)
        # bob hands in alice's numbers under his own P: wrong for bob
        assert "sizes_unhedged is wrong" in _fails(RB.sizes_unhedged, sizes_a, ticker="KO", params=bob)
        # bob hands in alice's notebook: her P, her numbers
        msg = _fails(RB.sizes_unhedged, sizes_a, ticker="KO", sigma_r=sig_a, params=alice)
        assert msg == _params.OTHER_STUDENT
        # bob types alice's id into his own notebook
        assert _fails(RB.sigma_r, sig_a, ticker="KO", params=alice) == _params.OTHER_STUDENT
        # bob edits his P to alice's budget
        assert _fails(RB.sigma_r, sig_b, ticker="KO", params={**bob, "budget": alice["budget"]}) \
            == _params.OTHER_STUDENT
    finally:
        _core.JUDGE_CONTEXT.reset(token)
    for secret in (f"{alice['budget']:,}", str(alice["budget"]), alice["start"], "alice"):
        assert secret not in msg


def test_self_check_grades_on_the_typed_id():
    """``autograder check`` knows no other identity: the typed id's parameters."""
    alice = _p("risk-budgets", "alice")
    sig_a, sizes_a = _answers_rb("PG", alice)
    token = _judge(None)
    try:
        RB.sizes_unhedged(sizes_a, ticker="PG", sigma_r=sig_a, params=alice)
        assert _fails(RB.sigma_r, sig_a, ticker="PG", params={**alice, "end": "2016"}) == _params.OTHER_STUDENT
    finally:
        _core.JUDGE_CONTEXT.reset(token)
    token = _judge(None, seed=None)  # no seed in the notebook: the defaults
    try:
        RB.sigma_r(_answers_rb("PG", fv.DEFAULTS["risk-budgets"])[0], ticker="PG",
                   params=_p("risk-budgets", "alice", seed=None))
    finally:
        _core.JUDGE_CONTEXT.reset(token)


@pytest.mark.parametrize("student", ["carol", "dave"])
def test_other_assignments_grade_on_the_window_budget_and_limit(student):
    data = factordata.excess_returns("daily")
    p_ab, p_hg, p_vs = _p("alpha-beta", student), _p("hedging", student), _p("variance-shares", student)
    x = data.loc[p_ab["start"]:p_ab["end"]]
    fit = solutions.fit_factor_model(x["KO"], x["MKT"])
    xh = data.loc[p_hg["start"]:p_hg["end"]]
    fit_h = solutions.fit_factor_model(xh["XOM"], xh["MKT"])
    full = solutions.fit_factor_model(data["XOM"], data["MKT"])
    hedge = solutions.hedge_for_risk_share(p_vs["vbar"], full.beta, full.var_f, full.var_e)
    token = _judge(student)
    try:
        AB.beta(fit.beta, ticker="KO", params=p_ab)
        AB.alpha_annual(fit.alpha * 252, ticker="KO", params=p_ab)
        whole = solutions.fit_factor_model(data["KO"], data["MKT"])
        assert "whole 1990-2017 sample instead of your window" in _fails(AB.beta, whole.beta, ticker="KO", params=p_ab)
        HG.pnl(p_hg["notional"] * (xh["XOM"] - fit_h.beta * xh["MKT"]), ticker="XOM", params=p_hg)
        HG.cash_freed((fit_h.beta - 1) * p_hg["notional"], ticker="XOM", params=p_hg)
        if p_hg["notional"] != 1_000_000:
            assert "cash_freed is wrong" in _fails(HG.cash_freed, (fit_h.beta - 1) * 1_000_000, ticker="XOM",
                                                   params=p_hg)
        VS.hedge(hedge, ticker="XOM", params=p_vs)
        if p_vs["vbar"] != 0.1:
            default = solutions.hedge_for_risk_share(0.1, full.beta, full.var_f, full.var_e)
            assert "hedge is wrong" in _fails(VS.hedge, default, ticker="XOM", params=p_vs)
    finally:
        _core.JUDGE_CONTEXT.reset(token)


def test_without_judge_the_notebooks_P_is_used():
    """Stock ``nbgrader autograde`` runs the checks in the student's kernel: its P."""
    p = _p("risk-budgets", "erin")
    sig, sizes = _answers_rb("MRK", p)
    RB.sizes_unhedged(sizes, ticker="MRK", sigma_r=sig, params=p)
    RB.sizes_unhedged(_answers_rb("MRK", fv.DEFAULTS["risk-budgets"])[1], ticker="MRK")  # no P: defaults


# ---- end to end: release and grade ----------------------------------------------------
def _with_id(nb, student, seed=SEED, typed=None):
    """The notebook with STUDENT_ID typed in (and the seed the release wrote)."""
    for cell in nb.cells:
        if "assignment_parameters(" in cell.source:
            src = re.sub(r'STUDENT_ID = "[^"]*"', f"STUDENT_ID = {json.dumps(typed or student)}", cell.source)
            if seed and "class_seed" not in src:
                src = src.replace("STUDENT_ID)", f"STUDENT_ID, class_seed={json.dumps(seed)})")
            cell.source = src
            return nb
    raise AssertionError("no parameters cell")


@pytest.fixture(scope="module")
def variant_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("variants") / "course"
    course.mkdir()
    shutil.copytree(EXERCISES / "source" / "risk-budgets", course / "source" / "risk-budgets")
    config = (EXERCISES / "nbgrader_config.py").read_text()
    config += f'\nc.Autograder.variants = ["risk-budgets"]\nc.Autograder.variant_seed = {SEED!r}\n'
    (course / "nbgrader_config.py").write_text(config)
    proc = bs.run_autograder("release", "risk-budgets", "--course", course)
    assert proc.returncode == 0, proc.stderr
    release = bs.read_nb(bs.release_path(course, "risk-budgets"))
    source = bs.read_nb(bs.source_path(course, "risk-budgets"))
    assert av.notebook_seed(release) == SEED and av.notebook_seed(source) is None
    good = bs.solved(source, release)
    alice = _with_id(bs.solved(source, release), "alice", seed=None)  # the release wrote the seed
    bs.submit(course, "alice", "risk-budgets", alice)
    bs.submit(course, "bob", "risk-budgets", alice)  # bob hands in alice's notebook
    bs.submit(course, "carol", "risk-budgets", _with_id(bs.solved(source, release), "carol", typed="alice"))
    bs.submit(course, "dave", "risk-budgets", _with_id(good, "dave", seed=None))
    proc = bs.run_autograder("grade", "risk-budgets", "--course", course, "--jobs", 2, "--timeout", 60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course


def _result(course, student):
    return json.loads((course / "autograded" / student / "risk-budgets" / ".autograder.json").read_text())


def test_grade_full_marks_on_own_parameters(variant_course):
    grades = bs.read_grades(variant_course, "risk-budgets")
    for student in ("alice", "dave"):
        assert bs.num(grades[student]["autograded_score"]) == 13.0, _result(variant_course, student)


@pytest.mark.parametrize("student", ["bob", "carol"])
def test_grade_classmates_parameters_earn_nothing(variant_course, student):
    grades = bs.read_grades(variant_course, "risk-budgets")
    assert bs.num(grades[student]["autograded_score"]) == 0.0
    for q in _result(variant_course, student)["questions"]:
        if q["status"] != "manual":
            assert q["message"] == _params.OTHER_STUDENT
    summary = (variant_course / "reports" / "risk-budgets" / "summary.txt").read_text()
    assert "another student's parameters" in summary


def test_check_uses_the_typed_id(variant_course, tmp_path):
    """Self-check of a released variant notebook: the typed id's parameters."""
    path = tmp_path / "mine.ipynb"
    shutil.copy(variant_course / "submitted" / "alice" / "risk-budgets" / "risk-budgets.ipynb", path)
    proc, data = bs.check_json(path, "--course", variant_course)
    assert data is not None and data["score"] == 13.0, proc.stdout + proc.stderr
