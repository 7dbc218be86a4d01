"""Fair grading (issue 10): error carried forward, points per item, rounding,
show-it answers, named mistakes, mark schemes that hold for every ticker, and
the similarity report.

In-process and fast: each question's hidden tests are taken from the source
notebook and run by the trusted judge (:func:`autograder.judge.judge_question`)
on answers exported exactly as the sandbox exports them
(:func:`autograder.sandbox_runner.export`), so these tests exercise the real
hidden blocks, their item weights and keyword arguments, and the checks.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import factordata
from autograder import checks, judge
from autograder.grading import question_label
from autograder.sandbox_runner import export
from autograder.similarity import similar_pairs
from test_checks import (DAILY, RF, F, alpha_beta_answers, assert_no_leak, five_answers, hedging_answers,
                         ols, risk_answers, variance_answers)

EXERCISES = Path(__file__).resolve().parents[1] / "exercises" / "source"
UNIVERSE = factordata.tickers()
B = 100_000
HZ = [1, 21, 252]


# --------------------------------------------------------------------------
# the judge on the real hidden tests
# --------------------------------------------------------------------------
def _source(a):
    return nbformat.read(str(EXERCISES / a / f"{a}.ipynb"), as_version=4)


def hidden_questions(a):
    """grade_id -> (hidden code, points) of every autograded test cell."""
    out = {}
    for cell in _source(a).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            out[meta["grade_id"]] = (judge.hidden_block(cell.source), float(meta["points"]))
    return out


def grade(a, answers: dict, typed_in=()) -> dict:
    """grade_id -> Verdict for a namespace of answers (missing names: not answered)."""
    out = {}
    for gid, (code, points) in hidden_questions(a).items():
        exports = export(answers, judge.needed_names(code), 10**9)
        out[gid] = judge.judge_question(code, exports, points, label=question_label(gid),
                                        typed_in=frozenset(typed_in))
    return out


def total(verdicts) -> float:
    return round(sum(v.points for v in verdicts.values()), 6)


def max_total(a) -> float:
    return sum(p for _, p in hidden_questions(a).values())


def ab_ns(t="KO"):
    return {"TICKER": t, "r_e": DAILY[t], "f": F, **alpha_beta_answers(t, "statsmodels")}


def hg_ns(t="BAC"):
    return {"TICKER": t, **hedging_answers(t)}


def rb_ns(t="MSFT"):
    return {"TICKER": t, **risk_answers(t)}


def vs_ns(t="XOM"):
    return {"TICKER": t, **variance_answers(t)}


def ft_ns(names=("KO", "PEP", "XOM", "CVX", "MSFT")):
    names = list(names)
    return {"TICKERS": names, **five_answers(names), "counts": {"factor_model": 11, "unrestricted": 15},
            "counts_universe": {"factor_model": 39, "unrestricted": 190}}


NAMESPACES = {"alpha-beta": ab_ns, "hedging": hg_ns, "risk-budgets": rb_ns, "variance-shares": vs_ns,
              "five-tickers": ft_ns}


@pytest.mark.parametrize("a", list(NAMESPACES))
def test_correct_full_and_blank_zero_as_stock_nbgrader(a):
    """Fully correct and blank notebooks score exactly as stock nbgrader's all-or-nothing cells."""
    verdicts = grade(a, NAMESPACES[a]())
    assert total(verdicts) == pytest.approx(max_total(a)), {k: v.message for k, v in verdicts.items()}
    assert all(v.status == "passed" for v in verdicts.values())
    choice = {"TICKERS": ft_ns()["TICKERS"]} if a == "five-tickers" else {"TICKER": NAMESPACES[a]()["TICKER"]}
    blank = grade(a, choice)
    assert total(blank) == 0 and all(v.status != "passed" for v in blank.values())


@pytest.mark.parametrize("a", list(NAMESPACES))
def test_hidden_blocks_state_points_and_policy(a):
    """Every item carries its points, they add up to the cell's, and the rules state the policy."""
    nb = _source(a)
    rules = nb.cells[0].source
    for words in ("Error carried forward", "Points per item", "Rounding", "whole dollars", "2 decimals",
                  "4 decimals", "6 significant digits", "Show it"):
        assert words in rules, words
    for gid, (code, points) in hidden_questions(a).items():
        calls = [ln for ln in code.splitlines() if ln.startswith("checks.")]
        weights = [float(re.search(r"#\s*([0-9.]+)\s*points?\b", ln).group(1)) for ln in calls]
        assert sum(weights) == pytest.approx(points), gid
        if len(calls) > 1:
            text = nb.cells[[c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells].index(gid) - 2]
            assert "*Grading:*" in text.source, gid


# --------------------------------------------------------------------------
# error carried forward and partial credit
# --------------------------------------------------------------------------
def raw_beta(t):
    return float(np.polyfit(F + RF, DAILY[t] + RF, 1)[0])


def hedging_from_beta(t, b):
    r = DAILY[t]
    hedged = r - b * F
    return {"TICKER": t, "beta": b, "tracking": b * F, "hedged": hedged, "hedged_mean": hedged.mean(),
            "hedged_var": hedged.var(), "hedged_beta": float(sm.OLS(hedged, sm.add_constant(F)).fit().params["MKT"]),
            "pnl": 1e6 * hedged, "pnl_annual": 1e6 * hedged.mean() * 252, "cash_freed": (b - 1) * 1e6,
            "cash_income_annual": -(1 - b) * RF.mean() * 252 * 1e6}


@pytest.mark.parametrize("how", ["raw", "subsample"])
def test_one_wrong_beta_costs_one_item_not_the_assignment(how):
    t = "BAC"
    b = raw_beta(t) if how == "raw" else ols(DAILY[t].loc["2000":"2010"], F.loc["2000":"2010"])["beta"]
    verdicts = grade("hedging", hedging_from_beta(t, b))
    assert verdicts["q1-tracking"].points == pytest.approx(1.0)  # beta 0 of 1, tracking 1 of 1
    assert "raw returns" in verdicts["q1-tracking"].message if how == "raw" else "sub-sample (2000-2010)" in \
        verdicts["q1-tracking"].message
    for gid in ("q2-hedged", "q3-hedged-properties", "q4-dollar-pnl", "q5-cash-freed"):
        assert verdicts[gid].status == "passed", (gid, verdicts[gid].message)
    assert total(verdicts) == pytest.approx(12.0)


def test_var_f_times_12_does_not_cost_implied_cov():
    ns = ft_ns()
    ns["var_f"] = ns["var_f"] * 12
    b = ns["fits"]["beta"].to_numpy()
    ns["implied_cov"] = pd.DataFrame(np.outer(b, b) * ns["var_f"] + np.diag(ns["fits"]["var_e"]),
                                     index=ns["TICKERS"], columns=ns["TICKERS"])
    verdicts = grade("five-tickers", ns)
    assert verdicts["q3-var-f"].points == 0 and "annualized with 12" in verdicts["q3-var-f"].message
    assert verdicts["q4-implied-cov"].status == "passed", verdicts["q4-implied-cov"].message
    assert total(verdicts) == pytest.approx(max_total("five-tickers") - 1)


def test_ecf_alpha_beta_chain():
    t = "KO"
    ns = ab_ns(t)
    a_raw = float(np.polyfit(F + RF, DAILY[t] + RF, 1)[1])
    b_raw = raw_beta(t)
    ns.update(alpha=a_raw, beta=b_raw)
    resid = DAILY[t] - a_raw - b_raw * F
    ns.update(resid=resid, var_e=resid.var(), r2=1 - resid.var() / DAILY[t].var(),
              corr_resid_f=float(resid.corr(F)), alpha_annual=a_raw * 252,
              resid_vol_annual=resid.std() * math.sqrt(252))
    verdicts = grade("alpha-beta", ns)
    assert verdicts["q1-regression"].points == 0
    assert "raw returns" in verdicts["q1-regression"].message
    for gid in ("q2-residuals", "q3-orthogonality", "q5-annualize"):
        assert verdicts[gid].status == "passed", (gid, verdicts[gid].message)


def test_ecf_message_says_it_follows_from_the_earlier_answer():
    t = "BAC"
    ns = hedging_from_beta(t, raw_beta(t))
    ns["pnl_annual"] = ns["pnl"].mean() * 12  # a new mistake on top of the student's own pnl
    ns["pnl"] = ns["pnl"]  # consistent with their hedged
    v = grade("hedging", ns)["q4-dollar-pnl"]
    assert v.points == pytest.approx(1.5)
    assert "with 12" in v.message
    ns2 = hedging_from_beta(t, raw_beta(t))
    ns2["cash_freed"] = (1 - ns2["beta"]) * 1e6  # wrong sign, applied to the student's own beta
    v2 = grade("hedging", ns2)["q5-cash-freed"]
    assert "follows from your answer to question 1" in v2.message, v2.message


def test_ecf_risk_budgets_sizes_and_pnl():
    t = "MSFT"
    ns = rb_ns(t)
    s_r = ns["sigma_r"]
    ns["sizes_unhedged"] = pd.Series({n: B / (s_r * n) for n in HZ})  # no square root
    x = ns["sizes_unhedged"][252]
    fit = ols(DAILY[t], F)
    ns["pnl_unhedged"] = x * (fit["alpha"] + fit["beta"] * F.mean()) * 252
    ns["pnl_alpha_unhedged"] = x * fit["alpha"] * 252
    verdicts = grade("risk-budgets", ns)
    assert verdicts["q2-unhedged-sizes"].points == 0
    assert "instead of its square root" in verdicts["q2-unhedged-sizes"].message
    assert verdicts["q4-pnl"].status == "passed", verdicts["q4-pnl"].message


def test_one_day_size_not_annualized_is_not_blamed_on_correct_sizes():
    t = "MSFT"
    ns = rb_ns(t)
    fit = ols(DAILY[t], F)
    ns["pnl_unhedged"] = ns["sizes_unhedged"][1] * (fit["alpha"] + fit["beta"] * F.mean())
    v = grade("risk-budgets", ns)["q4-pnl"]
    assert v.points == pytest.approx(2.0)
    assert "one-day position size and a daily PnL" in v.message
    assert "scaled by the horizon" not in v.message


def test_sizes_hedged_is_judged_without_sizes_unhedged():
    """A correct sizes_hedged passes whatever sizes_unhedged holds (string labels included)."""
    ns = rb_ns()
    ns["sizes_unhedged"] = pd.Series(ns["sizes_unhedged"].to_numpy(), index=["1", "21", "252"])
    verdicts = grade("risk-budgets", ns)
    assert verdicts["q3-hedged-sizes"].status == "passed"
    assert verdicts["q2-unhedged-sizes"].points == 0
    assert verdicts["q4-pnl"].status == "passed"  # the one-year size is found under "252"
    code, _ = hidden_questions("risk-budgets")["q3-hedged-sizes"]
    assert "sizes_unhedged" not in code
    src = _source("risk-budgets")
    q3 = next(c for c in src.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3-hedged-sizes")
    assert "sizes_unhedged" not in q3.source


def test_ecf_variance_shares_table_and_hedges():
    t = "XOM"
    ns = vs_ns(t)
    b_full = ols(DAILY[t], F)["beta"]
    rows = {}
    for label, (s, e) in {"2005-2006": ("2005", "2006"), "2008-2009": ("2008", "2009")}.items():
        y, x = DAILY[t].loc[s:e], F.loc[s:e]
        ve = (y - b_full * x).var()
        rows[label] = {"beta": b_full, "var_f": x.var(), "var_e": ve,
                       "factor_share": b_full**2 * x.var() / (b_full**2 * x.var() + ve)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    ns["period_table"] = table

    def hedge_to(b, vf, ve):
        return math.sqrt(0.1 * ve / (0.9 * vf)) - b

    ns["period_hedges"] = pd.Series({p: hedge_to(*table.loc[p, ["beta", "var_f", "var_e"]]) for p in table.index})
    verdicts = grade("variance-shares", ns)
    assert verdicts["q3-periods"].points == pytest.approx(3.0)  # only the beta column is wrong
    assert "full-sample beta" in verdicts["q3-periods"].message
    assert verdicts["q4-period-hedges"].status == "passed", verdicts["q4-period-hedges"].message


def test_partial_credit_per_item():
    ns = hg_ns()
    ns["hedged_var"] = np.var(ns["hedged"].to_numpy())  # ddof=0
    v = grade("hedging", ns)["q3-hedged-properties"]
    assert v.points == pytest.approx(2.0) and v.status == "failed" and "ddof=0" in v.message
    ns = vs_ns()
    ns["factor_share"] = ns["factor_share"] * 100
    v = grade("variance-shares", ns)["q1-decomposition"]
    assert v.points == pytest.approx(2.25) and "percent" in v.message


# --------------------------------------------------------------------------
# rounding
# --------------------------------------------------------------------------
def test_rounding_a_person_would_report_passes():
    ns = hg_ns()
    for name in ("pnl_annual", "cash_freed", "cash_income_annual"):
        ns[name] = round(ns[name])
    ns["beta"] = round(ns["beta"], 4)
    ns["pnl"] = ns["pnl"].round(2)
    verdicts = grade("hedging", ns)
    for gid in ("q4-dollar-pnl", "q5-cash-freed"):
        assert verdicts[gid].status == "passed", verdicts[gid].message
    assert verdicts["q1-tracking"].status == "passed", verdicts["q1-tracking"].message  # tracking follows the rounded beta
    ns = rb_ns()
    ns.update(sharpe_unhedged=round(ns["sharpe_unhedged"], 2), sharpe_hedged=round(ns["sharpe_hedged"], 2),
              sizes_unhedged=ns["sizes_unhedged"].round(0), pnl_hedged=round(ns["pnl_hedged"]))
    verdicts = grade("risk-budgets", ns)
    assert all(v.status == "passed" for v in verdicts.values()), {k: v.message for k, v in verdicts.items()}
    ns = ab_ns()
    ns.update(beta=round(ns["beta"], 4), tstat_alpha=round(ns["tstat_alpha"], 2), r2=round(ns["r2"], 4),
              var_e=float(f"{ns['var_e']:.6g}"))
    verdicts = grade("alpha-beta", ns)
    for gid in ("q1-regression", "q2-residuals", "q4-tstat"):
        assert verdicts[gid].status == "passed", verdicts[gid].message


def test_rounding_too_coarse_gets_the_rounded_hint():
    ns = rb_ns()
    ns["sharpe_unhedged"] = round(ns["sharpe_unhedged"], 1)
    v = grade("risk-budgets", ns)["q5-sharpe"]
    assert v.points == pytest.approx(1.5) and "rounded to 1 decimal" in v.message and "2 decimals" in v.message
    ns = ab_ns()
    ns["beta"] = round(ns["beta"], 2)
    v = grade("alpha-beta", ns)["q1-regression"]
    assert "rounded to 2 decimals" in v.message and "4 decimals" in v.message


def test_rounding_never_hides_ddof():
    """ddof=0 fails unrounded and rounded to the finest digits the policy asks for."""
    t = "KO"
    e = ols(DAILY[t], F)["resid"]
    for value in (e.var(ddof=0), float(f"{e.var(ddof=0):.6g}")):
        msg = pytest.raises(AssertionError, checks.alpha_beta.var_e, value, ticker=t).value.args[0]
        assert "ddof=0" in msg or "rounded" in msg
    s0 = DAILY["MSFT"].std(ddof=0)
    with pytest.raises(AssertionError):
        checks.risk_budgets.sigma_r(float(f"{s0:.6g}"), ticker="MSFT")


# --------------------------------------------------------------------------
# show it: typed-in answers earn nothing, judged on the student's own data
# --------------------------------------------------------------------------
def test_typed_in_show_it_answers_fail():
    ns = ab_ns()
    ns["corr_resid_f"] = 0.0
    v = grade("alpha-beta", ns, typed_in={"corr_resid_f"})["q3-orthogonality"]
    assert v.points == 0 and "typed in" in v.message
    ns = hg_ns()
    ns["hedged_beta"] = 0
    v = grade("hedging", ns, typed_in={"hedged_beta"})["q3-hedged-properties"]
    assert v.points == pytest.approx(2.0) and "typed in" in v.message
    v = grade("five-tickers", ft_ns(), typed_in={"counts", "counts_universe"})["q6-counts"]
    assert v.points == 0 and "typed in" in v.message
    ns = vs_ns()
    v = grade("variance-shares", ns, typed_in={"hedged_share"})["q2-hedge"]
    assert v.points == pytest.approx(1.5) and "typed in" in v.message


def test_typed_in_names_detects_the_bare_numbers():
    names = judge.typed_in_names(["corr_resid_f = 0", "hedged_beta = -1e-17", "x = resid.corr(f)"])
    assert {"corr_resid_f", "hedged_beta"} <= names and "x" not in names


def test_typed_in_names_course_constants_and_count_dicts():
    names = judge.typed_in_names(["hedged_share = VBAR", "counts = {'factor_model': 11, 'unrestricted': 15}",
                                  "n = len(TICKERS)\nk = {'factor_model': 2 * n + 1}", "b = fit()\nshare = (b + 1) ** 2"])
    assert {"hedged_share", "counts"} <= names
    assert "k" not in names and "share" not in names


def test_show_it_is_judged_on_the_students_own_series():
    ns = hg_ns()
    wrong = DAILY["BAC"] - F  # a hedge of one unit: its slope on f is not zero
    ns["hedged"] = wrong
    ns["hedged_beta"] = float(sm.OLS(wrong, sm.add_constant(F)).fit().params["MKT"])
    ns["hedged_mean"], ns["hedged_var"] = wrong.mean(), wrong.var()
    v = grade("hedging", ns)
    assert v["q2-hedged"].points == 0 and "one unit" in v["q2-hedged"].message
    assert v["q3-hedged-properties"].status == "passed", v["q3-hedged-properties"].message
    ns["hedged_beta"] = 0.0  # what the chapter says, not what the student's hedged gives
    v = grade("hedging", ns)["q3-hedged-properties"]
    assert v.points == pytest.approx(2.0)


# --------------------------------------------------------------------------
# named mistakes (hint first, never on a correct answer, never the reference)
# --------------------------------------------------------------------------
def _fails(check, value, **kw):
    with pytest.raises(AssertionError) as info:
        check(value, **kw)
    return str(info.value)


def test_named_mistakes_of_issue_10():
    t = "KO"
    r = DAILY[t]
    fit = ols(r, F)
    sub = ols(r.loc["2005":"2012"], F.loc["2005":"2012"])
    res = sm.OLS(r, sm.add_constant(F)).fit()
    hg = hedging_answers("BAC")
    rb = risk_answers("MSFT")
    vs = variance_answers("XOM")
    ft = five_answers(["KO", "PEP", "XOM", "CVX", "MSFT"])
    vx = ols(DAILY["XOM"], F)
    k = math.sqrt(0.1 * vx["var_e"] / (0.9 * F.var()))
    rbm = DAILY["MSFT"]
    hb = DAILY["BAC"] - hg["beta"] * F
    n = np.array([len(DAILY)] * 5)
    fits = ft["fits"]
    bb = np.outer(fits["beta"], fits["beta"]) * ft["var_f"]
    names = ["KO", "PEP", "XOM", "CVX", "MSFT"]
    cases = [
        (checks.alpha_beta.beta, sub["beta"], "sub-sample (2005-2012)", fit["beta"], {"ticker": t}),
        (checks.alpha_beta.alpha, sub["alpha"], "sub-sample", fit["alpha"], {"ticker": t}),
        (checks.risk_budgets.sigma_r, rbm.loc["2010":].std(), "sub-sample", rb["sigma_r"], {"ticker": "MSFT"}),
        (checks.five_tickers.var_f, F.loc["1990":"1999"].var(), "sub-sample", ft["var_f"], {"tickers": names}),
        (checks.hedging.pnl, hg["pnl"] * 100, "percent", hg["pnl"].iloc[:50], {"ticker": "BAC"}),
        (checks.hedging.pnl_annual, hg["pnl_annual"] * 100, "percent", hg["pnl_annual"], {"ticker": "BAC"}),
        (checks.five_tickers.var_f, ft["var_f"] * 1e4, "percent", ft["var_f"], {"tickers": names}),
        (checks.hedging.pnl, 1e6 * ((DAILY["BAC"] + RF) - hg["beta"] * (F + RF)), "raw returns", hg["pnl"].iloc[:50],
         {"ticker": "BAC"}),
        (checks.risk_budgets.sharpe_unhedged, (rbm + RF).mean() / (rbm + RF).std() * math.sqrt(252), "raw returns",
         rb["sharpe_unhedged"], {"ticker": "MSFT"}),
        (checks.alpha_beta.tstat_alpha, res.get_robustcov_results("HAC", maxlags=5).tvalues[0], "HAC",
         fit["tstat_alpha"], {"ticker": t}),
        (checks.alpha_beta.tstat_alpha, res.get_robustcov_results("HC1").tvalues[0], "robust (HC1)",
         fit["tstat_alpha"], {"ticker": t}),
        (checks.variance_shares.hedge, -k - vx["beta"], "larger root", vs["hedge"], {"ticker": "XOM"}),
        (checks.variance_shares.factor_share, vs["var_factor"] / vs["var_idio"], "wrong denominator",
         vs["factor_share"], {"ticker": "XOM"}),
        (checks.variance_shares.period_table, vs["period_table"].assign(var_f=vs["period_table"]["var_f"] * 12),
         "annualized with 12", vs["period_table"], {"ticker": "XOM"}),
        (checks.five_tickers.var_f, ft["var_f"] * 12, "annualized with 12", ft["var_f"], {"tickers": names}),
        (checks.five_tickers.implied_cov,
         pd.DataFrame(bb + np.diag(fits["var_e"] * (n - 1) / (n - 2)), index=names, columns=names), "mse_resid",
         ft["implied_cov"], {"tickers": names}),
        (checks.hedging.hedged_mean, hb.mean() * 100, "percent", hg["hedged_mean"], {"ticker": "BAC"}),
    ]
    for check, value, phrase, reference, kw in cases:
        msg = _fails(check, value, **kw)
        assert phrase.lower() in msg.lower(), (check.__name__, phrase, msg)
        assert re.match(r"^[\w\[\]' ]+ is wrong\. (This matches|It is the right value)", msg), msg
        assert_no_leak(msg, reference)
    msg = _fails(checks.five_tickers.counts_universe, {"factor_model": 41, "unrestricted": 210})
    assert "counting MKT as a stock" in msg
    msg = _fails(checks.five_tickers.counts, {"factor_model": 13, "unrestricted": 21}, tickers=names)
    assert "counting MKT as a stock" in msg


def test_hint_comes_first_and_preamble_is_short():
    msg = _fails(checks.hedging.pnl, hedging_answers("BAC")["pnl"] / 1e6, ticker="BAC")
    assert msg.index("This matches") < 20
    assert "relative tolerance" not in msg


# --------------------------------------------------------------------------
# every ticker: correct answers pass, visible checks hold, mark schemes hold
# --------------------------------------------------------------------------
@pytest.mark.parametrize("t", UNIVERSE)
def test_correct_answers_pass_for_every_ticker(t):
    from test_checks import own

    if t not in ("WMT", "JPM"):
        answers = alpha_beta_answers(t, "numpy")
        for name, value in answers.items():
            own(checks.alpha_beta, name, value, answers, ticker=t)
    for module, answers in ((checks.hedging, hedging_answers(t)), (checks.risk_budgets, risk_answers(t)),
                            (checks.variance_shares, variance_answers(t))):
        for name, value in answers.items():
            own(module, name, value, answers, ticker=t)


def _scheme(a, gid):
    return next(c.source for c in _source(a).cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_mark_scheme_claims_hold_for_every_ticker():
    fits = {t: ols(DAILY[t], F) for t in UNIVERSE}
    # alpha-beta: the dividend bias (beta x yield) is upward for every stock: every beta is positive
    assert all(f["beta"] > 0 for f in fits.values())
    q6 = next(c.source for c in _source("alpha-beta").cells if c.metadata.get("nbgrader", {}).get("grade_id") == "text-08")
    assert "for a stock that pays dividends" not in q6 and "positive beta" in q6
    # alpha-beta: the idiosyncratic part is more than half for every stock but GE
    assert {t for t, f in fits.items() if f["r2"] >= 0.5} == {"GE"}
    assert "GE" in _scheme("alpha-beta", "w1-interpretation")
    # risk-budgets: sigma_e < sigma_r, so the hedged size is larger at every horizon
    assert all(f["var_e"] < DAILY[t].var() for t, f in fits.items())
    # variance-shares: var_f several-fold, every share rose; the required short grows for
    # most tickers but shrinks for some (WMT, KO), and the scheme credits both
    periods = {"calm": ("2005", "2006"), "crisis": ("2008", "2009")}
    vf = {p: F.loc[s:e].var() for p, (s, e) in periods.items()}
    assert vf["crisis"] / vf["calm"] > 10
    shrink = set()
    for t in UNIVERSE:
        out = {}
        for p, (s, e) in periods.items():
            o = ols(DAILY[t].loc[s:e], F.loc[s:e])
            share = o["beta"] ** 2 * vf[p] / (o["beta"] ** 2 * vf[p] + o["var_e"])
            assert o["beta"] > 0 and share > 0.1  # visible check: period hedges <= 0
            out[p] = (share, math.sqrt(0.1 * o["var_e"] / (0.9 * vf[p])) - o["beta"])
        assert out["crisis"][0] > out["calm"][0], t
        if abs(out["crisis"][1]) < abs(out["calm"][1]):
            shrink.add(t)
    assert shrink == {"WMT", "KO"}
    scheme = _scheme("variance-shares", "w1-turmoil")
    assert "required short grows in magnitude)" not in scheme
    assert "every bundled stock" in scheme and "shrinks" in scheme and "WMT and KO" in scheme
    # five-tickers: same-industry residual correlations are positive (implied cov understates them)
    resid = pd.DataFrame({t: f["resid"] for t, f in fits.items()}).corr()
    for a, b in [("KO", "PEP"), ("XOM", "CVX"), ("JPM", "BAC"), ("PFE", "MRK")]:
        assert resid.loc[a, b] > 0.2
    assert "no peers" in _scheme("five-tickers", "w1-judgement")


# --------------------------------------------------------------------------
# similarity report
# --------------------------------------------------------------------------
INDEPENDENT = [
    ["excess = factordata.excess_returns('daily')\nr_e = excess[TICKER]\nf = excess['MKT']\n"
     "model = sm.OLS(r_e, sm.add_constant(f)).fit()\nalpha = float(model.params['const'])\n"
     "beta = float(model.params['MKT'])",
     "resid = model.resid\nvar_e = float(resid.var(ddof=1))\nr2 = float(model.rsquared)"],
    ["data = factordata.excess_returns(\"daily\")\ny = data[TICKER].to_numpy()\nx = data[\"MKT\"].to_numpy()\n"
     "X = np.column_stack([np.ones_like(x), x])\ncoef, *_ = np.linalg.lstsq(X, y, rcond=None)\n"
     "alpha, beta = coef\nr_e, f = data[TICKER], data['MKT']",
     "resid = r_e - alpha - beta * f\nvar_e = np.var(resid, ddof=1)\nr2 = 1 - var_e / np.var(r_e, ddof=1)"],
    ["df = factordata.excess_returns('daily')\nr_e, f = df[TICKER], df['MKT']\n"
     "beta = r_e.cov(f) / f.var()\nalpha = r_e.mean() - beta * f.mean()",
     "resid = r_e - (alpha + beta * f)\nvar_e = resid.var()\nr2 = (beta ** 2 * f.var()) / r_e.var()"],
    ["import statsmodels.formula.api as smf\nd = factordata.excess_returns('daily').rename(columns={TICKER: 'y'})\n"
     "res = smf.ols('y ~ MKT', data=d).fit()\nalpha, beta = res.params['Intercept'], res.params['MKT']\n"
     "r_e, f = d['y'], d['MKT']",
     "resid = res.resid\nvar_e = resid.var(ddof=1)\nr2 = res.rsquared\nprint(alpha * 252, r2)"],
]


def test_similarity_finds_a_planted_copy_and_no_false_pair():
    original = INDEPENDENT[0]
    # the copy: names changed, comments and blank lines added, spacing changed
    copy = [src.replace("model", "m").replace("resid", "eps").replace("r_e", "ret") for src in original]
    copy = ["# my own work\n" + src.replace(" = ", "=").replace("\n", "\n\n") for src in copy]
    notebooks = {f"s{i}": cells for i, cells in enumerate(INDEPENDENT)}
    notebooks["copier"] = copy
    notebooks["blank"] = ["raise NotImplementedError()", "raise NotImplementedError()"]
    pairs = similar_pairs(notebooks, threshold=0.9)
    assert [(a, b) for a, b, _ in pairs] == [("copier", "s0")], pairs
    assert pairs[0][2] >= 0.95
    # shared locked/stub text is ignored: two blanks or two stubs-only notebooks are no pair
    assert similar_pairs({"a": ["raise NotImplementedError()"], "b": ["raise NotImplementedError()"]}) == []
