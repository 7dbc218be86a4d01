"""Checks for the ``risk-budgets`` assignment.

A volatility budget of ``BUDGET`` dollars caps the dollar standard deviation
of a position over a horizon of 1, 21 or 252 trading days. Position sizes
unhedged (one dollar has daily std ``sigma_r``) and hedged (``sigma_e``),
the expected and alpha-only PnL over a year, and Sharpe ratios. Daily data,
full sample, the student's ``TICKER``.
"""

from __future__ import annotations

import functools
import math

import pandas as pd

from . import _data
from ._core import Mistake, as_number, as_series, compare, percent, solutions_module

#: Dollar standard deviation allowed over the horizon.
BUDGET = 100_000
#: Horizons in trading days: a day, a month (21 days), a year (252 days).
HORIZONS = (1, 21, 252)
_HORIZON_INDEX = pd.Index(HORIZONS)
_HORIZON_DESC = "the horizons 1, 21, 252 (trading days)"
_BUDGET_TEXT = " and BUDGET"


def _setup(ticker):
    ticker = _data.check_ticker(ticker)
    return ticker, _ref(ticker), f"{ticker}'s daily excess returns"


def ticker(value) -> None:
    """``TICKER`` is one of the bundled stocks."""
    _data.check_ticker(value)


@functools.lru_cache(maxsize=32)
def _ref(ticker: str) -> dict:
    sol = solutions_module()
    fit = _data.fit(ticker)
    r, f = _data.excess(ticker), _data.factor()
    h = _data.H
    sigma_r = float(r.std(ddof=1))
    sigma_e = math.sqrt(fit.var_e)
    size = lambda vol: pd.Series([sol.position_size(BUDGET, vol, n) for n in HORIZONS], index=_HORIZON_INDEX)
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
    ], checklist="sigma_r is the sample standard deviation (ddof=1) of the daily excess returns.")


def sigma_e(value, *, ticker) -> None:
    """Daily residual volatility sqrt(var_e) (ddof=1), decimal."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sigma_e")
    n = ref["fit"].nobs
    compare(got, ref["sigma_e"], "sigma_e", what=what, mistakes=_vol_mistakes(ref["r"], ref["sigma_e"]) + [
        Mistake("the volatility of the unhedged excess return (that is sigma_r)", ref["sigma_r"]),
        Mistake("a residual variance with ddof=2 (statsmodels' mse_resid); the question asks for ddof=1",
                ref["sigma_e"] * math.sqrt((n - 1) / (n - 2))),
    ], checklist="sigma_e is the sample standard deviation (ddof=1) of the regression residuals.")


def _size_mistakes(vol: float, other_vol: float, other: str, nobs: int) -> list[Mistake]:
    m = solutions_module().mistakes
    h = list(HORIZONS)
    idx = _HORIZON_INDEX
    return [
        Mistake("scaling the daily volatility by the horizon instead of its square root: "
                "a standard deviation over n days is sigma x sqrt(n)",
                pd.Series(m.position_size_without_sqrt(BUDGET, vol, h), index=idx)),
        Mistake("dividing the budget by a variance instead of a volatility",
                pd.Series(m.position_size_with_variance(BUDGET, vol, h), index=idx)),
        Mistake("the same one-day size at every horizon: the dollar std grows with sqrt(horizon)",
                pd.Series(BUDGET / vol, index=idx)),
        Mistake(f"sizes computed from the {other} volatility", pd.Series([BUDGET / (other_vol * math.sqrt(n)) for n in h], index=idx)),
        Mistake("a volatility in percent (sizes 100 times too small)", pd.Series([BUDGET / (100 * vol * math.sqrt(n)) for n in h], index=idx)),
        Mistake("a volatility with ddof=0 (see question 1); the question asks for ddof=1",
                pd.Series([BUDGET / (vol * math.sqrt((nobs - 1) / nobs) * math.sqrt(n)) for n in h], index=idx)),
    ]


def sizes_unhedged(value, *, ticker) -> None:
    """Unhedged position sizes in dollars, a Series indexed by 1, 21, 252."""
    ticker, ref, what = _setup(ticker)
    got = as_series(value, "sizes_unhedged", _HORIZON_INDEX, index_desc=_HORIZON_DESC)
    compare(got, ref["x"], "sizes_unhedged", what=what + _BUDGET_TEXT,
            mistakes=_size_mistakes(ref["sigma_r"], ref["sigma_e"], "residual (hedged)", ref["fit"].nobs),
            checklist="size = BUDGET / (sigma_r x sqrt(n)) dollars for a horizon of n trading days.")


def sizes_hedged(value, *, ticker) -> None:
    """Hedged position sizes in dollars, a Series indexed by 1, 21, 252."""
    ticker, ref, what = _setup(ticker)
    got = as_series(value, "sizes_hedged", _HORIZON_INDEX, index_desc=_HORIZON_DESC)
    compare(got, ref["xe"], "sizes_hedged", what=what + _BUDGET_TEXT,
            mistakes=_size_mistakes(ref["sigma_e"], ref["sigma_r"], "unhedged (total)", ref["fit"].nobs),
            checklist="size = BUDGET / (sigma_e x sqrt(n)) dollars: the hedged position only carries residual risk.")


def _pnl_mistakes(ref: dict, per_dollar: float, size_key: str) -> list[Mistake]:
    h = _data.H
    one_day = ref[size_key][1]
    year = ref[size_key][252]
    vol = ref["sigma_r"] if size_key == "x" else ref["sigma_e"]
    return [
        # Carried over from a wrong size in questions 2-3: named first, as
        # some coincide numerically with annualizing mistakes.
        Mistake("a position size scaled by the horizon instead of its square root (see the sizes question)",
                BUDGET / (vol * 252) * per_dollar * h),
        Mistake("a position size computed from a variance instead of a volatility (see the sizes question)",
                BUDGET / (vol**2 * math.sqrt(252)) * per_dollar * h),
        Mistake("a position size computed from a ddof=0 volatility (see question 1)",
                year * math.sqrt(ref["fit"].nobs / (ref["fit"].nobs - 1)) * per_dollar * h),
        Mistake("the one-day position size; use the size for the one-year (252-day) horizon", one_day * per_dollar * h),
        Mistake("the one-month (21-day) position size; use the size for the one-year (252-day) horizon",
                ref[size_key][21] * per_dollar * h),
        Mistake("a daily expected PnL, not annualized (multiply by 252)", year * per_dollar),
        Mistake("annualizing with 12; daily data annualizes with 252", year * per_dollar * 12),
        Mistake("annualizing a mean with sqrt(252): means scale with 252", year * per_dollar * math.sqrt(h)),
    ]


def pnl_unhedged(value, *, ticker) -> None:
    """Expected excess PnL over a year of the unhedged 252-day size, dollars."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_unhedged")
    fit = ref["fit"]
    per_dollar = fit.alpha + fit.beta * fit.mu_f
    compare(got, ref["pnl_unhedged"], "pnl_unhedged", what=what + _BUDGET_TEXT, mistakes=_pnl_mistakes(ref, per_dollar, "x") + [
        Mistake("the alpha-only PnL: the unhedged position also earns beta x the market premium",
                ref["pnl_alpha_unhedged"]),
    ], checklist="size (one-year horizon) x (alpha + beta x mu_f) x 252 dollars.")


def pnl_alpha_unhedged(value, *, ticker) -> None:
    """Alpha-only PnL over a year of the unhedged 252-day size, dollars."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_alpha_unhedged")
    compare(got, ref["pnl_alpha_unhedged"], "pnl_alpha_unhedged", what=what + _BUDGET_TEXT,
            mistakes=_pnl_mistakes(ref, ref["fit"].alpha, "x") + [
                Mistake("the full expected PnL including beta x mu_f: count only alpha", ref["pnl_unhedged"]),
                Mistake("the hedged position size; this question is about the unhedged position", ref["pnl_hedged"]),
            ], checklist="size (unhedged, one-year horizon) x alpha x 252 dollars.")


def pnl_hedged(value, *, ticker) -> None:
    """Expected (alpha) PnL over a year of the hedged 252-day size, dollars."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "pnl_hedged")
    fit = ref["fit"]
    compare(got, ref["pnl_hedged"], "pnl_hedged", what=what + _BUDGET_TEXT,
            mistakes=_pnl_mistakes(ref, fit.alpha, "xe") + [
                Mistake("the unhedged position size; the hedged position is sized with sigma_e", ref["pnl_alpha_unhedged"]),
                Mistake("a hedged PnL that still counts beta x mu_f: the hedge removes the market premium",
                        ref["xe"][252] * (fit.alpha + fit.beta * fit.mu_f) * _data.H),
            ], checklist="size (hedged, one-year horizon) x alpha x 252 dollars.")


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


def sharpe_unhedged(value, *, ticker) -> None:
    """Annualized Sharpe ratio of the stock's daily excess return."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sharpe_unhedged")
    compare(got, ref["sharpe_unhedged"], "sharpe_unhedged", what=what,
            mistakes=_sharpe_mistakes(ref["r"], ref["sharpe_unhedged"]) + [
                Mistake("the hedged Sharpe ratio (that is sharpe_hedged)", ref["sharpe_hedged"]),
            ], checklist="mean / std (ddof=1) of the daily excess return, times sqrt(252).")


def sharpe_hedged(value, *, ticker) -> None:
    """Annualized Sharpe ratio of the hedged return (the appraisal ratio)."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "sharpe_hedged")
    compare(got, ref["sharpe_hedged"], "sharpe_hedged", what=what,
            mistakes=_sharpe_mistakes(ref["hedged"], ref["sharpe_hedged"]) + [
                Mistake("the unhedged Sharpe ratio (that is sharpe_unhedged)", ref["sharpe_unhedged"]),
            ], checklist="mean / std (ddof=1) of the daily hedged return r_e - beta f, times sqrt(252).")
