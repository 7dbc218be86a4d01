"""Checks for the ``risk-budgets`` assignment.

A volatility budget of ``BUDGET`` dollars caps the dollar standard deviation
of a position over a horizon of 1, 21 or 252 trading days. Position sizes
unhedged (one dollar has daily std ``sigma_r``) and hedged (``sigma_e``),
the expected and alpha-only PnL over a year, and Sharpe ratios. Daily data,
full sample, the student's ``TICKER``.
"""

from __future__ import annotations

import math

import pandas as pd

from . import _data, _params
from ._core import (DOLLARS, RATIO, SMALL, Carried, Mistake, as_number, as_series, compare, differs,
                    number_or_none, percent, solutions_module)

#: Horizons in trading days: a day, a month (21 days), a year (252 days).
HORIZONS = (1, 21, 252)
_HORIZON_INDEX = pd.Index(HORIZONS)
_HORIZON_DESC = "the horizons 1, 21, 252 (trading days)"
_BUDGET_TEXT = " and BUDGET"


def _budget() -> float:
    """Dollar standard deviation allowed over the horizon in the check in progress: ``P["budget"]``

    (the student's own with per-student variants; else the default of
    ``factordata.variants.DEFAULTS``, $100,000, the number the text uses).
    """
    return _params.value("budget")


def _setup(ticker):
    ticker = _data.check_ticker(ticker)
    return ticker, _ref(ticker), f"{ticker}'s daily excess returns"


def ticker(value) -> None:
    """``TICKER`` is one of the bundled stocks."""
    _data.check_ticker(value)


@_params.cached
def _ref(ticker: str) -> dict:
    sol = solutions_module()
    fit = _data.fit(ticker)
    r, f = _data.excess(ticker), _data.factor()
    h = _data.H
    sigma_r = float(r.std(ddof=1))
    sigma_e = math.sqrt(fit.var_e)
    size = lambda vol: pd.Series([sol.position_size(_budget(), vol, n) for n in HORIZONS], index=_HORIZON_INDEX)
    x, xe = size(sigma_r), size(sigma_e)
    hedged = sol.hedged_returns(r, f, fit.beta)
    return {
        "fit": fit, "sigma_r": sigma_r, "sigma_e": sigma_e, "x": x, "xe": xe,
        "pnl_unhedged": sol.expected_pnl(x[252], fit.alpha, fit.beta, fit.mu_f, h),
        "pnl_alpha_unhedged": sol.alpha_pnl(x[252], fit.alpha, h),
        "pnl_hedged": sol.alpha_pnl(xe[252], fit.alpha, h),
        "sharpe_unhedged": sol.sharpe_ratio(r, h),
        "sharpe_hedged": sol.sharpe_ratio(hedged, h),
        "r": r, "hedged": hedged,
    }


def _vol_mistakes(series: pd.Series, vol: float) -> list[Mistake]:
    n = len(series)
    return [
        Mistake("a standard deviation with ddof=0 (numpy's default); the question asks for ddof=1", vol * math.sqrt((n - 1) / n)),
        Mistake("a variance instead of a standard deviation (volatility)", vol**2),
        Mistake("an annualized volatility; the question asks for the daily one", vol * math.sqrt(_data.H)),
        Mistake("a volatility in percent (answers are decimals)", percent(vol)),
    ]


def sigma_r(value, *, ticker) -> None:
    """Daily volatility (std, ddof=1) of the stock's excess return, decimal."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sigma_r")
    compare(got, ref["sigma_r"], "sigma_r", what=what, mistakes=_vol_mistakes(ref["r"], ref["sigma_r"]) + [
        Mistake("the residual volatility (that is sigma_e)", ref["sigma_e"]),
        _data.subsample_finder(ticker, "sigma_r"),
    ], checklist="sigma_r is the sample standard deviation (ddof=1) of the daily excess returns.", precision=SMALL)


def sigma_e(value, *, ticker) -> None:
    """Daily residual volatility sqrt(var_e) (ddof=1), decimal."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sigma_e")
    n = ref["fit"].nobs
    compare(got, ref["sigma_e"], "sigma_e", what=what, mistakes=_vol_mistakes(ref["r"], ref["sigma_e"]) + [
        Mistake("the volatility of the unhedged excess return (that is sigma_r)", ref["sigma_r"]),
        Mistake("a residual variance with ddof=2 (statsmodels' mse_resid); the question asks for ddof=1",
                ref["sigma_e"] * math.sqrt((n - 1) / (n - 2))),
        _data.subsample_finder(ticker, "sigma_e"),
    ], checklist="sigma_e is the sample standard deviation (ddof=1) of the regression residuals.", precision=SMALL)


def _size_mistakes(vol: float, other_vol: float, other: str, nobs: int) -> list[Mistake]:
    m = solutions_module().mistakes
    h = list(HORIZONS)
    idx = _HORIZON_INDEX
    return [
        Mistake("scaling the daily volatility by the horizon instead of its square root: "
                "a standard deviation over n days is sigma x sqrt(n)",
                pd.Series(m.position_size_without_sqrt(_budget(), vol, h), index=idx)),
        Mistake("dividing the budget by a variance instead of a volatility",
                pd.Series(m.position_size_with_variance(_budget(), vol, h), index=idx)),
        Mistake("the same one-day size at every horizon: the dollar std grows with sqrt(horizon)",
                pd.Series(_budget() / vol, index=idx)),
        Mistake(f"sizes computed from the {other} volatility", pd.Series([_budget() / (other_vol * math.sqrt(n)) for n in h], index=idx)),
        Mistake("a volatility in percent (sizes 100 times too small)", pd.Series([_budget() / (100 * vol * math.sqrt(n)) for n in h], index=idx)),
        Mistake("a volatility with ddof=0 (see question 1); the question asks for ddof=1",
                pd.Series([_budget() / (vol * math.sqrt((nobs - 1) / nobs) * math.sqrt(n)) for n in h], index=idx)),
    ]


def _sizes_from(vol):
    return pd.Series([_budget() / (vol * math.sqrt(n)) for n in HORIZONS], index=_HORIZON_INDEX)


def sizes_unhedged(value, *, ticker, sigma_r=None) -> None:
    """Unhedged position sizes in dollars, a Series indexed by 1, 21, 252 (``sigma_r``: question 1's, for ECF)."""
    ticker, ref, what = _setup(ticker)
    got = as_series(value, "sizes_unhedged", _HORIZON_INDEX, index_desc=_HORIZON_DESC)
    v_s = number_or_none(sigma_r)
    compare(got, ref["x"], "sizes_unhedged", what=what + _BUDGET_TEXT,
            mistakes=_size_mistakes(ref["sigma_r"], ref["sigma_e"], "residual (hedged)", ref["fit"].nobs),
            checklist="size = BUDGET / (sigma_r x sqrt(n)) dollars for a horizon of n trading days.", precision=DOLLARS,
            carried=[Carried("question 1", "sigma_r", differs(v_s, ref["sigma_r"]),
                             lambda: _sizes_from(v_s) if v_s > 0 else None,
                             lambda: _size_mistakes(v_s, ref["sigma_e"], "residual (hedged)", ref["fit"].nobs)[:3])])


def sizes_hedged(value, *, ticker, sigma_e=None) -> None:
    """Hedged position sizes in dollars, a Series indexed by 1, 21, 252 (``sigma_e``: question 1's, for ECF)."""
    ticker, ref, what = _setup(ticker)
    got = as_series(value, "sizes_hedged", _HORIZON_INDEX, index_desc=_HORIZON_DESC)
    v_s = number_or_none(sigma_e)
    compare(got, ref["xe"], "sizes_hedged", what=what + _BUDGET_TEXT,
            mistakes=_size_mistakes(ref["sigma_e"], ref["sigma_r"], "unhedged (total)", ref["fit"].nobs),
            checklist="size = BUDGET / (sigma_e x sqrt(n)) dollars: the hedged position only carries residual risk.",
            precision=DOLLARS,
            carried=[Carried("question 1", "sigma_e", differs(v_s, ref["sigma_e"]),
                             lambda: _sizes_from(v_s) if v_s > 0 else None,
                             lambda: _size_mistakes(v_s, ref["sigma_r"], "unhedged (total)", ref["fit"].nobs)[:3])])


def _year_size(sizes):
    """The student's one-year (252-day) size from their Series, whatever its labels; None if absent."""
    if not isinstance(sizes, pd.Series):
        return None
    for key in (252, "252", 252.0):
        try:
            return number_or_none(sizes.loc[key])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _pnl_mistakes(ref: dict, per_dollar: float, size_key: str, own_year: float | None) -> list[Mistake]:
    h = _data.H
    one_day = ref[size_key][1]
    year = ref[size_key][252]
    vol = ref["sigma_r"] if size_key == "x" else ref["sigma_e"]
    no_sqrt_year = _budget() / (vol * 252)
    # A size scaled by the horizon (no square root) makes the one-year size
    # 1/252 of the one-day size, so its annual PnL equals the one-day size's
    # daily PnL. The student's own sizes tell which of the two it is.
    if own_year is not None and math.isclose(own_year, no_sqrt_year, rel_tol=1e-6):
        scaled = "a position size scaled by the horizon instead of its square root (see the sizes question)"
    elif own_year is not None:
        scaled = "the one-day position size and a daily PnL: use the one-year (252-day) size and multiply by 252"
    else:
        scaled = ("the one-day position size and a daily PnL (use the one-year size and multiply by 252), "
                  "or a size scaled by the horizon instead of its square root")
    return [
        Mistake(scaled, no_sqrt_year * per_dollar * h),
        Mistake("a position size computed from a variance instead of a volatility (see the sizes question)",
                _budget() / (vol**2 * math.sqrt(252)) * per_dollar * h),
        Mistake("a position size computed from a ddof=0 volatility (see question 1)",
                year * math.sqrt(ref["fit"].nobs / (ref["fit"].nobs - 1)) * per_dollar * h),
        Mistake("the one-day position size; use the size for the one-year (252-day) horizon", one_day * per_dollar * h),
        Mistake("the one-month (21-day) position size; use the size for the one-year (252-day) horizon",
                ref[size_key][21] * per_dollar * h),
        Mistake("a daily expected PnL, not annualized (multiply by 252)", year * per_dollar),
        Mistake("annualizing with 12; daily data annualizes with 252", year * per_dollar * 12),
        Mistake("annualizing a mean with sqrt(252): means scale with 252", year * per_dollar * math.sqrt(h)),
    ]


def _pnl_carried(question, name, own_year, ref_year, per_dollar):
    h = _data.H
    return [Carried(question, name, differs(own_year, ref_year), lambda: own_year * per_dollar * h, lambda: [
        Mistake("a daily expected PnL, not annualized (multiply by 252)", own_year * per_dollar),
        Mistake("annualizing with 12; daily data annualizes with 252", own_year * per_dollar * 12)])]


def pnl_unhedged(value, *, ticker, sizes_unhedged=None) -> None:
    """Expected excess PnL over a year of the unhedged 252-day size, dollars (``sizes_unhedged``: for ECF)."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_unhedged")
    fit = ref["fit"]
    per_dollar = fit.alpha + fit.beta * fit.mu_f
    own = _year_size(sizes_unhedged)
    compare(got, ref["pnl_unhedged"], "pnl_unhedged", what=what + _BUDGET_TEXT, mistakes=_pnl_mistakes(ref, per_dollar, "x", own) + [
        Mistake("the alpha-only PnL: the unhedged position also earns beta x the market premium",
                ref["pnl_alpha_unhedged"]),
    ], checklist="size (one-year horizon) x (alpha + beta x mu_f) x 252 dollars.", precision=DOLLARS,
       carried=_pnl_carried("question 2", "sizes_unhedged", own, ref["x"][252], per_dollar))


def pnl_alpha_unhedged(value, *, ticker, sizes_unhedged=None) -> None:
    """Alpha-only PnL over a year of the unhedged 252-day size, dollars (``sizes_unhedged``: for ECF)."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_alpha_unhedged")
    own = _year_size(sizes_unhedged)
    compare(got, ref["pnl_alpha_unhedged"], "pnl_alpha_unhedged", what=what + _BUDGET_TEXT,
            mistakes=_pnl_mistakes(ref, ref["fit"].alpha, "x", own) + [
                Mistake("the full expected PnL including beta x mu_f: count only alpha", ref["pnl_unhedged"]),
                Mistake("the hedged position size; this question is about the unhedged position", ref["pnl_hedged"]),
            ], checklist="size (unhedged, one-year horizon) x alpha x 252 dollars.", precision=DOLLARS,
            carried=_pnl_carried("question 2", "sizes_unhedged", own, ref["x"][252], ref["fit"].alpha))


def pnl_hedged(value, *, ticker, sizes_hedged=None) -> None:
    """Expected (alpha) PnL over a year of the hedged 252-day size, dollars (``sizes_hedged``: for ECF)."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_hedged")
    fit = ref["fit"]
    own = _year_size(sizes_hedged)
    compare(got, ref["pnl_hedged"], "pnl_hedged", what=what + _BUDGET_TEXT,
            mistakes=_pnl_mistakes(ref, fit.alpha, "xe", own) + [
                Mistake("the unhedged position size; the hedged position is sized with sigma_e", ref["pnl_alpha_unhedged"]),
                Mistake("a hedged PnL that still counts beta x mu_f: the hedge removes the market premium",
                        ref["xe"][252] * (fit.alpha + fit.beta * fit.mu_f) * _data.H),
            ], checklist="size (hedged, one-year horizon) x alpha x 252 dollars.", precision=DOLLARS,
            carried=_pnl_carried("question 3", "sizes_hedged", own, ref["xe"][252], fit.alpha))


def _sharpe_mistakes(series: pd.Series, sharpe: float) -> list[Mistake]:
    h = _data.H
    daily = sharpe / math.sqrt(h)
    n = len(series)
    return [
        Mistake("a Sharpe ratio annualized with 252 instead of sqrt(252): the mean scales with 252, the std with sqrt(252)", daily * h),
        Mistake("annualizing with sqrt(12); daily data annualizes with sqrt(252)", daily * math.sqrt(12)),
        Mistake("a daily Sharpe ratio, not annualized", daily),
        Mistake("a standard deviation with ddof=0; the question asks for ddof=1", sharpe * math.sqrt(n / (n - 1))),
        Mistake("a Sharpe ratio in percent", percent(sharpe)),
    ]


def _raw_sharpe(ticker, hedged: bool):
    r, f, rf = _data.excess(ticker), _data.factor(), _data.risk_free()
    b = _data.fit(ticker).beta
    out = []
    for y in ([(r + rf) - b * (f + rf), (r + rf) - b * f] if hedged else [r + rf]):
        out.append(Mistake("raw returns instead of excess returns: the Sharpe ratio is the mean *excess* "
                           "return over its standard deviation", y.mean() / y.std() * math.sqrt(_data.H)))
    return out


def sharpe_unhedged(value, *, ticker) -> None:
    """Annualized Sharpe ratio of the stock's daily excess return."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sharpe_unhedged")
    compare(got, ref["sharpe_unhedged"], "sharpe_unhedged", what=what,
            mistakes=_sharpe_mistakes(ref["r"], ref["sharpe_unhedged"]) + [
                Mistake("the hedged Sharpe ratio (that is sharpe_hedged)", ref["sharpe_hedged"]),
                *_raw_sharpe(ticker, False),
                _data.subsample_finder(ticker, "sharpe_r"),
            ], checklist="mean / std (ddof=1) of the daily excess return, times sqrt(252).", precision=RATIO)


def sharpe_hedged(value, *, ticker) -> None:
    """Annualized Sharpe ratio of the hedged return (the appraisal ratio)."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sharpe_hedged")
    compare(got, ref["sharpe_hedged"], "sharpe_hedged", what=what,
            mistakes=_sharpe_mistakes(ref["hedged"], ref["sharpe_hedged"]) + [
                Mistake("the unhedged Sharpe ratio (that is sharpe_unhedged)", ref["sharpe_unhedged"]),
                *_raw_sharpe(ticker, True),
                _data.subsample_finder(ticker, "sharpe_hedged"),
            ], checklist="mean / std (ddof=1) of the daily hedged return r_e - beta f, times sqrt(252).", precision=RATIO)


# Every check above takes ``params=P`` (the notebook's per-student parameters).
_params.parametrize(globals(), "risk-budgets")
