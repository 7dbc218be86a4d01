"""Unit tests of ``autograder.checks``: the functions the hidden tests call.

In-process, no kernel. For each assignment: correct answers pass for several
ticker choices whether computed with numpy or statsmodels and whatever the
scalar type; each common mistake fails with a message that names it and
never contains the expected value; wrong types and shapes get their own
message. The expected values here are computed independently with numpy
(not with ``solutions``), so these tests also cross-check the reference.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import factordata
from autograder import checks

H = 252
DAILY = factordata.excess_returns("daily")
RF = factordata.risk_free("daily")
F = DAILY["MKT"]
TICKERS = ["KO", "AMD", "XOM"]  # defensive, cyclical high-beta, energy


# --------------------------------------------------------------------------
# Independent reference (numpy least squares) and the leak check
# --------------------------------------------------------------------------
def ols(y: pd.Series, x: pd.Series) -> dict:
    X = np.column_stack([np.ones(len(x)), x.to_numpy()])
    (alpha, beta), *_ = np.linalg.lstsq(X, y.to_numpy(), rcond=None)
    resid = y - alpha - beta * x
    n = len(y)
    s2 = (resid**2).sum() / (n - 2)
    se_alpha = math.sqrt(s2 * np.linalg.inv(X.T @ X)[0, 0])
    return {"alpha": alpha, "beta": beta, "resid": resid, "var_e": resid.var(ddof=1),
            "r2": 1 - resid.var() / y.var(), "tstat_alpha": alpha / se_alpha, "n": n}


def formats(value: float) -> list[str]:
    """The ways a number could be printed in a message."""
    out = {repr(value), str(value)}
    for spec in (".3g", ".4g", ".5g", ".6g", ".8g", ".3f", ".4f", ".5f", ".6f", ".2e", ".3e", ".4e", ",.0f", ",.2f"):
        text = format(value, spec)
        if len(text.strip("-0.,e+")) >= 3:  # skip strings too short to mean anything ("0.00")
            out.add(text)
    return sorted(out)


def assert_no_leak(message: str, reference) -> None:
    values = np.asarray(reference, dtype=float).ravel()
    for v in values:
        for text in formats(float(v)):
            assert text not in message, f"message leaks the reference ({text!r}): {message}"


def fails(check, value, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(value, **kwargs)
    return str(info.value)


def fails_with(check, value, phrase: str, reference, **kwargs) -> str:
    message = fails(check, value, **kwargs)
    assert phrase.lower() in message.lower(), f"expected the hint {phrase!r}, got: {message}"
    assert "\n" not in message
    assert_no_leak(message, reference)
    return message


# --------------------------------------------------------------------------
# alpha-beta
# --------------------------------------------------------------------------
AB = checks.alpha_beta


def alpha_beta_answers(ticker: str, method: str) -> dict:
    r = DAILY[ticker]
    if method == "statsmodels":
        m = sm.OLS(r, sm.add_constant(F)).fit()
        a, b, resid = m.params["const"], m.params["MKT"], m.resid  # numpy float64 scalars
        return {"alpha": a, "beta": b, "resid": resid, "var_e": resid.var(), "r2": m.rsquared,
                "tstat_alpha": m.tvalues["const"], "corr_resid_f": resid.corr(F),
                "alpha_annual": a * 252, "resid_vol_annual": resid.std() * np.sqrt(252)}
    ref = ols(r, F)
    return {"alpha": float(ref["alpha"]), "beta": np.array(ref["beta"]), "resid": ref["resid"],
            "var_e": float(np.var(ref["resid"].to_numpy(), ddof=1)), "r2": ref["r2"],
            "tstat_alpha": ref["tstat_alpha"], "corr_resid_f": np.corrcoef(ref["resid"], F)[0, 1],
            "alpha_annual": ref["alpha"] * 252, "resid_vol_annual": math.sqrt(ref["var_e"] * 252)}


@pytest.mark.parametrize("ticker", TICKERS)
@pytest.mark.parametrize("method", ["statsmodels", "numpy"])
def test_alpha_beta_correct_answers_pass(ticker, method):
    answers = alpha_beta_answers(ticker, method)
    for name, value in answers.items():
        own(AB, name, value, answers, ticker=ticker)


def test_alpha_beta_rejects_chapter_tickers_and_unknown():
    value = alpha_beta_answers("KO", "numpy")["beta"]
    for forbidden in ("WMT", "JPM"):
        msg = fails(AB.beta, value, ticker=forbidden)
        assert "used in the chapter" in msg and forbidden in msg
    assert "not one of factordata.tickers()" in fails(AB.beta, value, ticker="RRC")
    assert "should be a string" in fails(AB.ticker, 3)
    AB.ticker("KO")


@pytest.mark.parametrize("value, phrase", [
    (pd.Series([1.0]), "should be a single number (float), got Series"),
    ([1.0], "got list"),
    ("0.6", "got str"),
    (True, "got a boolean"),
    (np.array([0.6, 0.7]), "numpy array of shape (2,)"),
    (float("nan"), "finite"),
])
def test_scalar_type_messages(value, phrase):
    assert phrase in fails(AB.beta, value, ticker="KO")


def test_resid_series_shape_messages():
    resid = alpha_beta_answers("KO", "numpy")["resid"]
    assert "should be the dates" in fails(AB.resid, resid.reset_index(drop=True), ticker="KO")
    assert "should be a pandas Series indexed by the dates" in fails(AB.resid, resid.to_numpy(), ticker="KO")
    assert "6863 of the 6864 dates" in fails(AB.resid, resid.iloc[1:], ticker="KO")
    assert "one-column DataFrame" in fails(AB.resid, resid.to_frame(), ticker="KO")
    AB.resid(resid.sample(frac=1.0, random_state=0), ticker="KO")  # order does not matter


def test_alpha_beta_mistakes_named_without_leaking():
    t = "KO"
    r, rf = DAILY[t], RF
    ref = ols(r, F)
    raw = ols(r + rf, F + rf)
    n = ref["n"]
    a, b, ve = ref["alpha"], ref["beta"], ref["var_e"]
    vol = math.sqrt(ve)
    cases = [
        (AB.alpha, raw["alpha"], "raw returns", a),
        (AB.alpha, a * 252, "already annualized", a),
        (AB.alpha, a * 100, "percent", a),
        (AB.alpha, r.mean(), "mean excess return", a),
        (AB.beta, r.cov(F) / r.var(), "x and y swapped", b),
        (AB.beta, r.corr(F), "correlation", b),
        (AB.beta, r.cov(F) / F.var(ddof=0), "different ddof", b),
        (AB.beta, (r * F).sum() / (F * F).sum(), "without a constant", b),
        (AB.resid, -ref["resid"], "wrong sign", ref["resid"].iloc[:50]),
        (AB.resid, r - b * F, "hedged return", ref["resid"].iloc[:50]),
        (AB.var_e, ref["resid"].var(ddof=0), "ddof=0", ve),
        (AB.var_e, (ref["resid"] ** 2).sum() / (n - 2), "ddof=2", ve),
        (AB.var_e, vol, "standard deviation", ve),
        (AB.var_e, r.var(), "not of the residual", ve),
        (AB.r2, 1 - (1 - ref["r2"]) * (n - 1) / (n - 2), "adjusted", ref["r2"]),
        (AB.r2, math.sqrt(ref["r2"]), "not its square", ref["r2"]),
        (AB.tstat_alpha, sm.OLS(r, sm.add_constant(F)).fit().tvalues["MKT"], "t-statistic of beta", ref["tstat_alpha"]),
        (AB.alpha_annual, a * 12, "with 12", a * H),
        (AB.alpha_annual, a * 25200, "percent", a * H),
        (AB.alpha_annual, (1 + a) ** 252 - 1, "compounded", a * H),
        (AB.alpha_annual, a * math.sqrt(252), "sqrt(252)", a * H),
        (AB.resid_vol_annual, ve * 252, "square root", vol * math.sqrt(H)),
        (AB.resid_vol_annual, vol * 252, "instead of sqrt(252)", vol * math.sqrt(H)),
        (AB.resid_vol_annual, vol * math.sqrt(12), "sqrt(12)", vol * math.sqrt(H)),
        (AB.resid_vol_annual, 100 * vol * math.sqrt(252), "percent", vol * math.sqrt(H)),
        (AB.resid_vol_annual, ref["resid"].std(ddof=0) * math.sqrt(252), "ddof=0", vol * math.sqrt(H)),
        (AB.resid_vol_annual, r.std() * math.sqrt(252), "not of the residual", vol * math.sqrt(H)),
    ]
    for check, value, phrase, reference in cases:
        fails_with(check, value, phrase, reference, ticker=t)


def test_alpha_beta_unknown_mistake_gets_checklist():
    msg = fails_with(AB.beta, 0.123456, "Check:", ols(DAILY["KO"], F)["beta"], ticker="KO")
    assert msg.startswith("beta is wrong. Check:")  # the hint comes first


def test_orthogonality_check():
    resid = ols(DAILY["KO"], F)["resid"]
    AB.corr_resid_f(np.float64(resid.corr(F)), ticker="KO", resid=resid)
    assert "cannot be shown without your residuals" in fails(AB.corr_resid_f, 0.0, ticker="KO")
    r = DAILY["KO"]
    msg = fails(AB.corr_resid_f, r.corr(F), ticker="KO", resid=resid)
    assert "correlate resid, not r_e" in msg


# --------------------------------------------------------------------------
# hedging
# --------------------------------------------------------------------------
HG = checks.hedging


def hedging_answers(ticker: str) -> dict:
    r = DAILY[ticker]
    ref = ols(r, F)
    b = ref["beta"]
    hedged = r - b * F
    return {
        "beta": b, "tracking": b * F, "hedged": hedged, "hedged_mean": hedged.mean(),
        "hedged_var": np.var(hedged.to_numpy(), ddof=1), "hedged_beta": ols(hedged, F)["beta"],
        "pnl": 1e6 * hedged, "pnl_annual": 1e6 * hedged.mean() * 252,
        "cash_freed": (b - 1) * 1e6, "cash_income_annual": -(1 - b) * RF.mean() * 252 * 1e6,
    }


@pytest.mark.parametrize("ticker", ["BAC", "KO", "WMT"])
def test_hedging_correct_answers_pass(ticker):
    answers = hedging_answers(ticker)
    for name, value in answers.items():
        own(HG, name, value, answers, ticker=ticker)


def test_hedging_mistakes_named_without_leaking():
    t = "BAC"
    r = DAILY[t]
    ans = hedging_answers(t)
    b = ans["beta"]
    cases = [
        (HG.tracking, F, "the factor itself", ans["tracking"].iloc[:50]),
        (HG.tracking, -ans["tracking"], "hedging portfolio", ans["tracking"].iloc[:50]),
        (HG.hedged, r + b * F, "wrong sign", ans["hedged"].iloc[:50]),
        (HG.hedged, r - F, "one unit", ans["hedged"].iloc[:50]),
        (HG.hedged, ols(r, F)["resid"], "keeps its alpha", ans["hedged"].iloc[:50]),
        (HG.hedged_mean, ans["hedged_mean"] * 252, "annualized", ans["hedged_mean"]),
        (HG.hedged_mean, r.mean(), "unhedged", ans["hedged_mean"]),
        (HG.hedged_var, np.var(ans["hedged"].to_numpy()), "ddof=0", ans["hedged_var"]),
        (HG.hedged_var, ans["hedged"].std(), "standard deviation", ans["hedged_var"]),
        (HG.pnl, ans["hedged"], "not dollars", ans["pnl"].iloc[:50]),
        (HG.pnl, 1e6 * r, "unhedged", ans["pnl"].iloc[:50]),
        (HG.pnl_annual, ans["pnl"].mean() * 12, "with 12", ans["pnl_annual"]),
        (HG.pnl_annual, ans["pnl"].mean(), "not annualized", ans["pnl_annual"]),
        (HG.pnl_annual, ans["hedged"].mean() * 252, "not dollars", ans["pnl_annual"]),
        (HG.pnl_annual, ans["pnl"].sum(), "whole sample", ans["pnl_annual"]),
        (HG.cash_freed, (1 - b) * 1e6, "wrong sign", ans["cash_freed"]),
        (HG.cash_freed, b * 1e6, "proceeds alone", ans["cash_freed"]),
        (HG.cash_income_annual, (1 - b) * RF.mean() * 252 * 1e6, "wrong sign", ans["cash_income_annual"]),
        (HG.cash_income_annual, -(1 - b) * RF.mean() * 12 * 1e6, "with 12", ans["cash_income_annual"]),
        (HG.cash_income_annual, -(1 - b) * RF.mean() * 252, "not dollars", ans["cash_income_annual"]),
    ]
    for check, value, phrase, reference in cases:
        fails_with(check, value, phrase, reference, ticker=t)
    assert "own beta" in fails(HG.hedged_beta, b, ticker=t, hedged=ans["hedged"])
    assert "cannot be shown without your hedged returns" in fails(HG.hedged_beta, 0.0, ticker=t)


# --------------------------------------------------------------------------
# risk-budgets
# --------------------------------------------------------------------------
RB = checks.risk_budgets
B = 100_000
HZ = [1, 21, 252]


def risk_answers(ticker: str) -> dict:
    r = DAILY[ticker]
    ref = ols(r, F)
    a, b = ref["alpha"], ref["beta"]
    s_r, s_e = r.std(ddof=1), math.sqrt(ref["var_e"])
    x = pd.Series({n: B / (s_r * math.sqrt(n)) for n in HZ})
    xe = pd.Series({n: B / (s_e * math.sqrt(n)) for n in HZ})
    hedged = r - b * F
    return {
        "sigma_r": s_r, "sigma_e": s_e, "sizes_unhedged": x, "sizes_hedged": xe,
        "pnl_unhedged": x[252] * (a + b * F.mean()) * 252, "pnl_alpha_unhedged": x[252] * a * 252,
        "pnl_hedged": xe[252] * a * 252,
        "sharpe_unhedged": r.mean() / r.std() * math.sqrt(252),
        "sharpe_hedged": hedged.mean() / hedged.std() * math.sqrt(252),
    }


@pytest.mark.parametrize("ticker", ["MSFT", "PG", "GE"])
def test_risk_budgets_correct_answers_pass(ticker):
    for name, value in risk_answers(ticker).items():
        getattr(RB, name)(value, ticker=ticker)
    # A Series in another order, with numpy integer labels, passes too.
    ans = risk_answers(ticker)
    RB.sizes_hedged(pd.Series(ans["sizes_hedged"].to_numpy()[::-1], index=np.array(HZ[::-1], dtype=np.int64)), ticker=ticker)


def test_risk_budgets_mistakes_named_without_leaking():
    t = "MSFT"
    r = DAILY[t]
    ans = risk_answers(t)
    s_r, s_e = ans["sigma_r"], ans["sigma_e"]
    x, xe = ans["sizes_unhedged"], ans["sizes_hedged"]
    ref = ols(r, F)
    a = ref["alpha"]
    per = lambda fn: pd.Series({n: fn(n) for n in HZ})
    cases = [
        (RB.sigma_r, r.std(ddof=0), "ddof=0", s_r),
        (RB.sigma_r, r.var(), "variance instead", s_r),
        (RB.sigma_r, s_r * math.sqrt(252), "annualized", s_r),
        (RB.sigma_e, s_r, "unhedged", s_e),
        (RB.sizes_unhedged, per(lambda n: B / (s_r * n)), "instead of its square root", x),
        (RB.sizes_unhedged, per(lambda n: B / (s_r**2 * math.sqrt(n))), "variance", x),
        (RB.sizes_unhedged, per(lambda n: B / s_r), "same one-day size", x),
        (RB.sizes_unhedged, per(lambda n: B / (s_e * math.sqrt(n))), "residual (hedged) volatility", x),
        (RB.sizes_hedged, per(lambda n: B / (s_r * math.sqrt(n))), "unhedged (total) volatility", xe),
        (RB.pnl_unhedged, x[1] * (a + ref["beta"] * F.mean()) * 252, "one-day position", ans["pnl_unhedged"]),
        (RB.pnl_unhedged, x[252] * (a + ref["beta"] * F.mean()), "not annualized", ans["pnl_unhedged"]),
        (RB.pnl_unhedged, ans["pnl_alpha_unhedged"], "alpha-only", ans["pnl_unhedged"]),
        (RB.pnl_alpha_unhedged, x[252] * a * 12, "with 12", ans["pnl_alpha_unhedged"]),
        (RB.pnl_hedged, ans["pnl_alpha_unhedged"], "unhedged position size", ans["pnl_hedged"]),
        (RB.sharpe_unhedged, r.mean() / r.std() * 252, "instead of sqrt(252)", ans["sharpe_unhedged"]),
        (RB.sharpe_unhedged, r.mean() / r.std() * math.sqrt(12), "sqrt(12)", ans["sharpe_unhedged"]),
        (RB.sharpe_unhedged, r.mean() / r.std(), "not annualized", ans["sharpe_unhedged"]),
        (RB.sharpe_hedged, ans["sharpe_unhedged"], "unhedged Sharpe", ans["sharpe_hedged"]),
    ]
    for check, value, phrase, reference in cases:
        fails_with(check, value, phrase, reference, ticker=t)


def test_risk_budgets_series_index_message():
    x = risk_answers("MSFT")["sizes_unhedged"]
    assert "horizons 1, 21, 252" in fails(RB.sizes_unhedged, x.reset_index(drop=True), ticker="MSFT")


# --------------------------------------------------------------------------
# variance-shares
# --------------------------------------------------------------------------
VS = checks.variance_shares
VBAR = 0.1
PERIODS = {"2005-2006": ("2005", "2006"), "2008-2009": ("2008", "2009")}


def hedge_to(vbar, b, vf, ve):
    share = b**2 * vf / (b**2 * vf + ve)
    return math.sqrt(vbar * ve / ((1 - vbar) * vf)) - b if share > vbar else 0.0


def variance_answers(ticker: str) -> dict:
    r = DAILY[ticker]
    ref = ols(r, F)
    b, ve, vf = ref["beta"], ref["var_e"], F.var()
    h = hedge_to(VBAR, b, vf, ve)
    rows = {}
    for label, (s, e) in PERIODS.items():
        p = ols(r.loc[s:e], F.loc[s:e])
        pvf = F.loc[s:e].var()
        rows[label] = {"beta": p["beta"], "var_f": pvf, "var_e": p["var_e"],
                       "factor_share": p["beta"] ** 2 * pvf / (p["beta"] ** 2 * pvf + p["var_e"])}
    table = pd.DataFrame.from_dict(rows, orient="index")
    return {
        "var_factor": b**2 * vf, "var_idio": ve, "var_total": r.var(), "factor_share": b**2 * vf / r.var(),
        "hedge": h, "hedged_share": (b + h) ** 2 * vf / ((b + h) ** 2 * vf + ve),
        "period_table": table,
        "period_hedges": pd.Series({p: hedge_to(VBAR, *table.loc[p, ["beta", "var_f", "var_e"]]) for p in table.index}),
    }


@pytest.mark.parametrize("ticker", ["XOM", "KO", "BAC"])
def test_variance_shares_correct_answers_pass(ticker):
    ans = variance_answers(ticker)
    assert ans["hedged_share"] == pytest.approx(VBAR)
    for name, value in ans.items():
        own(VS, name, value, ans, ticker=ticker)
    # columns and rows in another order, plus an extra column, still pass
    table = ans["period_table"].iloc[::-1, ::-1].assign(note=1.0)
    VS.period_table(table, ticker=ticker)


def test_variance_shares_mistakes_named_without_leaking():
    t = "XOM"
    r = DAILY[t]
    ans = variance_answers(t)
    ref = ols(r, F)
    b, ve, vf = ref["beta"], ref["var_e"], F.var()
    k = math.sqrt(VBAR * ve / ((1 - VBAR) * vf))
    table = ans["period_table"]
    full = table.copy()
    for label, (s, e) in PERIODS.items():  # full-sample beta kept in each period
        y, x = r.loc[s:e], F.loc[s:e]
        full.loc[label, "beta"] = b
        full.loc[label, "var_e"] = (y - b * x).var()
    cases = [
        (VS.var_factor, b * vf, "beta squared", ans["var_factor"]),
        (VS.var_factor, b * math.sqrt(vf), "volatility", ans["var_factor"]),
        (VS.var_factor, b**2 * F.var(ddof=0), "ddof=0", ans["var_factor"]),
        (VS.var_idio, ve * 252, "annualized", ve),
        (VS.var_total, r.var(ddof=0), "ddof=0", ans["var_total"]),
        (VS.factor_share, 100 * ans["factor_share"], "percent", ans["factor_share"]),
        (VS.factor_share, math.sqrt(ans["factor_share"]), "volatilities", ans["factor_share"]),
        (VS.factor_share, 1 - ans["factor_share"], "idiosyncratic share", ans["factor_share"]),
        (VS.hedge, -(k - b), "wrong sign", ans["hedge"]),
        (VS.hedge, -b, "full hedge", ans["hedge"]),
        (VS.hedge, VBAR * ve / ((1 - VBAR) * vf) - b, "square root", ans["hedge"]),
        (VS.hedge, math.sqrt(VBAR * ve / vf) - b, "(1 - VBAR)", ans["hedge"]),
        (VS.hedged_share, 100 * VBAR, "percent", VBAR),
        (VS.period_table, full, "full-sample beta", table),
        (VS.period_table, table.assign(factor_share=100 * table["factor_share"]), "percent", table),
        (VS.period_table, table.assign(var_f=table["var_f"] * 252), "annualized", table),
        (VS.period_hedges, -ans["period_hedges"], "wrong sign", ans["period_hedges"]),
        (VS.period_hedges, pd.Series(ans["hedge"], index=list(PERIODS)), "full-sample hedge", ans["period_hedges"]),
    ]
    for check, value, phrase, reference in cases:
        fails_with(check, value, phrase, reference, ticker=t)
    msg = fails(VS.period_table, table.drop(columns="var_e"), ticker=t)
    assert "missing the column" in msg and "var_e" in msg


# --------------------------------------------------------------------------
# five-tickers
# --------------------------------------------------------------------------
FT = checks.five_tickers
CHOICES = [["KO", "PEP", "XOM", "CVX", "MSFT"], ["JPM", "BAC", "AAPL", "AMD", "WMT"], ["PFE", "MRK", "LLY", "JNJ", "UNH"]]


def five_answers(names: list[str]) -> dict:
    r = DAILY[names]
    rows, resids = {}, {}
    for t in names:
        o = ols(r[t], F)
        rows[t] = {"alpha": o["alpha"], "beta": o["beta"], "var_e": o["var_e"]}
        resids[t] = o["resid"]
    fits = pd.DataFrame.from_dict(rows, orient="index")
    vf = F.var()
    b = fits["beta"].to_numpy()
    implied = pd.DataFrame(np.outer(b, b) * vf + np.diag(fits["var_e"]), index=names, columns=names)
    return {"sample_cov": r.cov(), "fits": fits, "var_f": vf, "implied_cov": implied,
            "resid_corr": pd.DataFrame(resids).corr()}


@pytest.mark.parametrize("names", CHOICES)
def test_five_tickers_correct_answers_pass(names):
    ans = five_answers(names)
    for name, value in ans.items():
        getattr(FT, name)(value, tickers=names)
    FT.counts({"factor_model": 11, "unrestricted": 15}, tickers=names)
    FT.counts_universe({"factor_model": np.int64(39), "unrestricted": 190.0})
    FT.tickers(names)
    # rows and columns in another order pass
    order = names[::-1]
    FT.sample_cov(ans["sample_cov"].loc[order, order], tickers=names)


def test_five_tickers_validation_messages():
    assert "exactly 5" in fails(FT.tickers, ["KO", "PEP"])
    assert "distinct" in fails(FT.tickers, ["KO", "KO", "XOM", "CVX", "MSFT"])
    assert "not one of" in fails(FT.tickers, ["KO", "MKT", "XOM", "CVX", "MSFT"])
    assert "list of 5" in fails(FT.tickers, "KO PEP XOM CVX MSFT")
    names = CHOICES[0]
    ans = five_answers(names)
    with_mkt = DAILY[names + ["MKT"]].cov()
    assert "drop the MKT column" in fails(FT.sample_cov, with_mkt, tickers=names)
    assert "should be a pandas DataFrame" in fails(FT.sample_cov, ans["sample_cov"].to_numpy(), tickers=names)
    assert "missing the column" in fails(FT.fits, ans["fits"].drop(columns="var_e"), tickers=names)
    assert "should be a dict" in fails(FT.counts, [11, 15], tickers=names)
    assert "missing the key" in fails(FT.counts, {"factor": 11, "unrestricted": 15}, tickers=names)
    assert "whole number" in fails(FT.counts, {"factor_model": 11.5, "unrestricted": 15}, tickers=names)


def test_five_tickers_mistakes_named_without_leaking():
    names = CHOICES[0]
    ans = five_answers(names)
    r = DAILY[names]
    n = len(r)
    fits = ans["fits"]
    vf = ans["var_f"]
    b = fits["beta"].to_numpy()
    frame = lambda a: pd.DataFrame(a, index=names, columns=names)
    raw = (r.add(RF, axis=0)).cov()
    cases = [
        (FT.sample_cov, r.cov(ddof=0), "ddof=0", ans["sample_cov"]),
        (FT.sample_cov, r.corr(), "correlation matrix", ans["sample_cov"]),
        (FT.sample_cov, r.cov() * 252, "annualized", ans["sample_cov"]),
        (FT.sample_cov, raw, "raw returns", ans["sample_cov"]),
        (FT.fits, fits.assign(var_e=fits["var_e"] * (n - 1) / n), "ddof=0", fits),
        (FT.fits, fits.assign(var_e=np.sqrt(fits["var_e"])), "volatilities", fits),
        (FT.fits, fits.assign(alpha=fits["alpha"] * 252), "annualized", fits),
        (FT.fits, fits.assign(beta=[r[t].corr(F) for t in names]), "correlations", fits),
        (FT.var_f, F.var(ddof=0), "ddof=0", vf),
        (FT.var_f, F.std(), "volatility", vf),
        (FT.implied_cov, frame(np.outer(b, b) * vf), "without the residual variances", ans["implied_cov"]),
        (FT.implied_cov, frame(np.outer(b, b) * vf + fits["var_e"].to_numpy()[None, :]), "every entry", ans["implied_cov"]),
        (FT.implied_cov, frame(np.outer(b, b) + np.diag(fits["var_e"])), "not multiplied by var_f", ans["implied_cov"]),
        (FT.implied_cov, ans["implied_cov"] * 252, "annualized", ans["implied_cov"]),
        (FT.resid_corr, r.corr(), "not of the residuals", ans["resid_corr"]),
    ]
    for check, value, phrase, reference in cases:
        fails_with(check, value, phrase, reference, tickers=names)
    count_cases = [
        ({"factor_model": 10, "unrestricted": 15}, "factor variance", 11),
        ({"factor_model": 11, "unrestricted": 25}, "every entry", 15),
        ({"factor_model": 11, "unrestricted": 10}, "only the covariances", 15),
        ({"factor_model": 11, "unrestricted": 14}, "Count each distinct parameter once", 15),
    ]
    for value, phrase, reference in count_cases:
        msg = fails(FT.counts, value, tickers=names)
        assert phrase in msg
        assert str(reference) not in msg
    msg = fails(FT.counts_universe, {"factor_model": 39, "unrestricted": 361})
    assert "every entry" in msg and "190" not in msg


# --------------------------------------------------------------------------
# Cross-cutting: integrity first, hints for errors carried from earlier answers
# --------------------------------------------------------------------------
def own(module, name, value, answers, **kw):
    """Call a check as the hidden tests do: with the student's own earlier
    answers for the keywords it takes (error carried forward, "show it")."""
    import inspect

    fn = getattr(module, name)
    params = inspect.signature(fn).parameters
    extra = {k: answers[k] for k in params if k in answers and k != name and k not in kw}
    return fn(value, **kw, **extra)


def public_checks():
    import inspect

    for module in (checks.alpha_beta, checks.hedging, checks.risk_budgets, checks.variance_shares, checks.five_tickers):
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == module.__name__:
                yield module.__name__.rsplit(".", 1)[1], name, fn


def test_carried_over_errors_are_named():
    t = "MSFT"
    ans = risk_answers(t)
    r = DAILY[t]
    s0 = r.std(ddof=0)
    x0 = pd.Series({n: B / (s0 * math.sqrt(n)) for n in HZ})
    fails_with(RB.sizes_unhedged, x0, "ddof=0 (see question 1)", ans["sizes_unhedged"], ticker=t)
    ref = ols(r, F)
    fails_with(RB.pnl_unhedged, x0[252] * (ref["alpha"] + ref["beta"] * F.mean()) * 252, "ddof=0 volatility",
               ans["pnl_unhedged"], ticker=t)
    v = variance_answers("XOM")
    b, vf, ve = ols(DAILY["XOM"], F)["beta"], F.var(), ols(DAILY["XOM"], F)["var_e"]
    bw = b - v["hedge"]
    fails_with(VS.hedged_share, bw**2 * vf / (bw**2 * vf + ve), "wrong sign", v["hedged_share"], ticker="XOM")
    h = hedging_answers("BAC")
    fails_with(HG.hedged_mean, (DAILY["BAC"] + h["beta"] * F).mean(), "wrong sign", h["hedged_mean"], ticker="BAC")
