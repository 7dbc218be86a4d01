"""Checks for the ``alpha-beta`` assignment.

The student picks ``TICKER`` (any bundled stock except WMT and JPM, which the
chapter uses) and regresses its daily excess return on the market's daily
excess return. Every check takes the student's value and ``ticker=TICKER``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _data, _params
from ._core import (COEF, RATIO, SMALL, Carried, Finder, Mistake, as_number, as_series, compare, differs,
                    note_mistake, number_or_none, percent, require_computed)

#: Tickers the chapter works through; the assignment wants another one.
FORBIDDEN = ("WMT", "JPM")

_ABOUT_RAW = "a regression on raw returns instead of excess returns (subtract the risk-free rate: use factordata.excess_returns)"


def _setup(ticker, forbidden=FORBIDDEN):
    ticker = _data.check_ticker(ticker, forbidden=forbidden)
    return ticker, _data.fit(ticker), f"{ticker}'s daily excess returns"


def ticker(value) -> None:
    """``TICKER`` is a bundled stock other than WMT and JPM."""
    _data.check_ticker(value, forbidden=FORBIDDEN)


def _reverse_beta(ticker):
    r, f = _data.excess(ticker), _data.factor()
    return r.cov(f) / r.var()


def alpha(value, *, ticker, _forbidden=FORBIDDEN) -> None:
    """Daily alpha (decimal per day) of the OLS fit of r_e on a constant and f."""
    ticker, fit, what = _setup(ticker, _forbidden)
    got = as_number(value, "alpha")
    r, f = _data.excess(ticker), _data.factor()
    compare(got, fit.alpha, "alpha", what=what, mistakes=[
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).alpha),
        Mistake("an alpha already annualized (the question asks for the daily alpha)", fit.alpha * _data.H),
        Mistake("an alpha in percent (answers are decimals: 0.01 is one percent)", percent(fit.alpha)),
        Mistake("the mean excess return, not the intercept of the regression", r.mean()),
        Mistake("a regression of the factor on the stock (x and y swapped)",
                lambda: f.mean() - _reverse_beta(ticker) * r.mean()),
        _data.subsample_finder(ticker, "alpha"),
    ], checklist="alpha is the intercept (const) of the OLS of the stock's daily excess return on a constant and the market's daily excess return.",
       precision=SMALL)


def beta(value, *, ticker, _forbidden=FORBIDDEN) -> None:
    """Slope of the OLS of r_e on a constant and f (no units; frequency-free)."""
    ticker, fit, what = _setup(ticker, _forbidden)
    got = as_number(value, "beta")
    r, f = _data.excess(ticker), _data.factor()
    n = len(r)
    compare(got, fit.beta, "beta", what=what, mistakes=[
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).beta),
        Mistake("a regression of the factor on the stock (x and y swapped)", lambda: _reverse_beta(ticker)),
        Mistake("the correlation of the stock with the factor, not the regression slope", r.corr(f)),
        Mistake("a covariance and a variance computed with different ddof (e.g. np.cov with ddof=1 over np.var with ddof=0): use the same ddof in both",
                fit.beta * (n - 1) / n),
        Mistake("a covariance and a variance computed with different ddof (e.g. np.cov with ddof=1 over np.var with ddof=0): use the same ddof in both",
                fit.beta * n / (n - 1)),
        Mistake("a regression without a constant (alpha forced to zero): add one with sm.add_constant",
                float((r * f).sum() / (f * f).sum())),
        _data.subsample_finder(ticker, "beta"),
    ], checklist="beta is the slope of the OLS of the stock's daily excess return on a constant and the market's daily excess return.",
       precision=COEF)


def _series_or_none(value, index):
    """A student's earlier Series answer on the reference dates, or None when unusable."""
    import pandas as pd

    if not isinstance(value, pd.Series) or value.index.has_duplicates or len(value) != len(index) \
            or not value.index.isin(index).all():
        return None
    try:
        out = value.reindex(index).astype(float)
    except (TypeError, ValueError):
        return None
    return None if out.isna().any() else out


def resid(value, *, ticker, alpha=None, beta=None) -> None:
    """Residual Series r_e - alpha - beta f, indexed by the dates of the data.

    ``alpha`` and ``beta``: the student's answers to question 1 (error
    carried forward: residuals computed from them pass).
    """
    ticker, fit, what = _setup(ticker)
    got = as_series(value, "resid", fit.resid.index, index_desc="the dates of the daily data")
    r, f = _data.excess(ticker), _data.factor()
    a_s, b_s = number_or_none(alpha), number_or_none(beta)
    wrong = differs(a_s, fit.alpha) or differs(b_s, fit.beta)
    a_use = a_s if a_s is not None else fit.alpha
    b_use = b_s if b_s is not None else fit.beta
    compare(got, fit.resid, "resid", what=what, mistakes=[
        Mistake("residuals with the wrong sign (fitted minus actual)", -fit.resid),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).resid),
        Mistake("r_e - beta * f without subtracting alpha (that is the hedged return, whose mean is alpha)",
                r - fit.beta * f),
    ], checklist="resid is the stock's daily excess return minus alpha minus beta times the factor, on every date.",
       precision=SMALL, carried=[Carried("question 1", "alpha and beta", wrong, lambda: r - a_use - b_use * f, lambda: [
           Mistake("residuals with the wrong sign (fitted minus actual)", -(r - a_use - b_use * f)),
           Mistake("r_e - beta * f without subtracting alpha", r - b_use * f)])])


def var_e(value, *, ticker, resid=None) -> None:
    """Residual variance, daily, sample variance with ddof=1.

    ``resid``: the student's residuals (question 2), for error carried forward.
    """
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "var_e")
    e = fit.resid
    n = len(e)
    own = _series_or_none(resid, e.index)
    compare(got, fit.var_e, "var_e", what=what, mistakes=[
        Mistake("a variance with ddof=0 (dividing by n, numpy's default); the question asks for ddof=1", e.var(ddof=0)),
        Mistake("a variance with ddof=2 (statsmodels' mse_resid or scale, dividing by n - 2); the question asks for ddof=1",
                e.var(ddof=0) * n / (n - 2)),
        Mistake("a standard deviation (volatility) instead of a variance", math.sqrt(fit.var_e)),
        Mistake("the variance of the stock's excess return, not of the residual", _data.excess(ticker).var()),
        Mistake("an annualized variance; the question asks for the daily one", fit.var_e * _data.H),
        Mistake("a variance in percent squared (answers are decimals)", fit.var_e * 1e4),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).var_e),
        _data.subsample_finder(ticker, "var_e"),
    ], checklist="var_e is the sample variance (ddof=1) of the daily residuals.", precision=SMALL,
       carried=[Carried("question 2", "resid", differs(own, e), lambda: own.var(ddof=1), lambda: [
           Mistake("a variance with ddof=0; the question asks for ddof=1", own.var(ddof=0))])])


def r2(value, *, ticker, resid=None) -> None:
    """R-squared of the regression (share of variance explained, decimal).

    ``resid``: the student's residuals (question 2), for error carried forward.
    """
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "r2")
    n = fit.nobs
    adj = 1 - (1 - fit.r2) * (n - 1) / (n - 2)
    own = _series_or_none(resid, fit.resid.index)
    r = _data.excess(ticker)
    compare(got, fit.r2, "r2", what=what, mistakes=[
        Mistake("the adjusted R-squared (rsquared_adj); the question asks for the plain R-squared", adj),
        Mistake("the correlation, not its square", math.sqrt(fit.r2)),
        Mistake("an R-squared in percent (answers are decimals)", percent(fit.r2)),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).r2),
        _data.subsample_finder(ticker, "r2"),
    ], checklist="r2 is the regression's R-squared: 1 - Var(resid)/Var(r_e).", precision=COEF,
       carried=[Carried("question 2", "resid", differs(own, fit.resid), lambda: 1 - own.var() / r.var())])


def tstat_alpha(value, *, ticker) -> None:
    """t-statistic of alpha with the usual (non-robust) OLS standard error."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "tstat_alpha")
    compare(got, fit.tstat_alpha, "tstat_alpha", what=what, rtol=1e-5, mistakes=[
        Mistake("the t-statistic of beta, not of alpha", fit.tstat_beta),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).tstat_alpha),
        Mistake("the standard error of alpha, not the t-statistic (alpha divided by its standard error)", fit.se_alpha),
        Finder(lambda got: _robust_tstat(ticker, got), summary="a robust (HC) or HAC t-statistic instead of the OLS one"),
    ], checklist="tstat_alpha is alpha divided by its ordinary (non-robust) OLS standard error, as statsmodels' tvalues reports.",
       precision=RATIO)


def _robust_tstat(ticker, got):
    """Name the robust (HC) or HAC (Newey-West) t-statistic ``got`` matches, if any."""
    result = _data.fit(ticker).result
    n = int(result.nobs)
    kinds = [("HC0", {}), ("HC1", {}), ("HC2", {}), ("HC3", {})]
    lags = sorted({int(4 * (n / 100) ** (2 / 9)), int(n ** 0.25), *range(0, 21)})
    kinds += [("HAC", {"maxlags": k}) for k in lags]
    for kind, kw in kinds:
        for correction in ((True, False) if kind == "HAC" else (None,)):
            extra = {} if correction is None else {"use_correction": correction}
            t = float(result.get_robustcov_results(cov_type=kind, **kw, **extra).tvalues[0])
            if math.isclose(got, t, rel_tol=1e-5):
                what = "a HAC (Newey-West)" if kind == "HAC" else f"a heteroskedasticity-robust ({kind})"
                return (f"{what} t-statistic; the question asks for the usual (non-robust) OLS one, "
                        "as statsmodels' tvalues reports without cov_type")
    return None


def corr_resid_f(value, *, ticker, resid=None) -> None:
    """Sample correlation of the residuals with the factor: zero up to rounding.

    A "show it" answer: it must be computed (a typed-in 0 earns nothing in the
    judge), and it is judged on the student's own ``resid`` (question 2) when
    given: it must be the correlation of that Series with the factor.
    """
    ticker, fit, _ = _setup(ticker)
    got = as_number(value, "corr_resid_f")
    require_computed("corr_resid_f")
    f = _data.factor()
    own = _series_or_none(resid, fit.resid.index)
    expected = float(own.corr(f)) if own is not None else 0.0
    if own is None and abs(got - expected) <= 1e-8:  # shown on the student's own residuals, or not at all
        raise AssertionError("corr_resid_f cannot be shown without your residuals: define resid "
                             "(question 2) and compute the correlation from it.")
    if not math.isfinite(expected):
        expected = 0.0
    if abs(got - expected) <= 1e-8:
        return
    r = _data.excess(ticker)
    message = ("corr_resid_f is wrong. It should be the correlation of your residuals (resid) with the factor f, "
               "which OLS makes zero up to rounding (below 1e-8 in absolute value).")
    if np.isclose(got, r.corr(f), rtol=1e-6):
        message = ("corr_resid_f is wrong. This matches the correlation of the stock's excess return with the factor: "
                   "correlate resid, not r_e.")
        note_mistake("the correlation of r_e, not resid, with the factor")
    raise AssertionError(message)


def alpha_annual(value, *, ticker, alpha=None) -> None:
    """Alpha annualized: daily alpha x 252, decimal per year (``alpha``: question 1's answer)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "alpha_annual")
    a_s = number_or_none(alpha)
    compare(got, fit.alpha * _data.H, "alpha_annual", what=what, mistakes=[
        Mistake("annualizing daily alpha with 12 (that is for monthly data); daily data annualizes with 252", fit.alpha * 12),
        Mistake("an annual alpha in percent (answers are decimals)", percent(fit.alpha * _data.H)),
        Mistake("a compounded alpha, (1 + alpha)**252 - 1; the question asks for the arithmetic 252 x alpha",
                (1 + fit.alpha) ** _data.H - 1),
        Mistake("annualizing with sqrt(252): means scale with 252, only volatilities with its square root",
                fit.alpha * math.sqrt(_data.H)),
        Mistake("the daily alpha, not annualized", fit.alpha),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).alpha * _data.H),
        _data.subsample_finder(ticker, "alpha", _data.H),
    ], checklist="annualize the daily alpha by multiplying by 252 trading days.", precision=SMALL,
       carried=[Carried("question 1", "alpha", differs(a_s, fit.alpha), lambda: a_s * _data.H, lambda: [
           Mistake("annualizing daily alpha with 12; daily data annualizes with 252", a_s * 12)])])


def resid_vol_annual(value, *, ticker, var_e=None) -> None:
    """Annualized residual volatility: sqrt(var_e) x sqrt(252), decimal per year (``var_e``: question 2's answer)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "resid_vol_annual")
    v_s = number_or_none(var_e)
    vol = math.sqrt(fit.var_e)
    h = _data.H
    n = fit.nobs
    compare(got, vol * math.sqrt(h), "resid_vol_annual", what=what, mistakes=[
        Mistake("an annualized variance (var_e x 252) instead of a volatility: take the square root", fit.var_e * h),
        Mistake("scaling the daily volatility by 252 instead of sqrt(252): volatilities scale with the square root of time", vol * h),
        Mistake("annualizing with sqrt(12) (that is for monthly data); daily data annualizes with sqrt(252)", vol * math.sqrt(12)),
        Mistake("a volatility in percent (answers are decimals)", percent(vol * math.sqrt(h))),
        Mistake("a residual variance with ddof=0; the question asks for ddof=1", vol * math.sqrt((n - 1) / n) * math.sqrt(h)),
        Mistake("a residual variance with ddof=2 (statsmodels' mse_resid); the question asks for ddof=1",
                vol * math.sqrt((n - 1) / (n - 2)) * math.sqrt(h)),
        Mistake("the volatility of the stock's excess return, not of the residual", _data.excess(ticker).std() * math.sqrt(h)),
        Mistake("the daily residual volatility, not annualized", vol),
        Mistake(_ABOUT_RAW, lambda: math.sqrt(_data.raw_fit(ticker).var_e * h)),
    ], checklist="the annual residual volatility is the daily residual standard deviation (ddof=1) times sqrt(252).",
       precision=SMALL, carried=[Carried("question 2", "var_e", differs(v_s, fit.var_e), lambda: math.sqrt(v_s * h) if v_s > 0 else None, lambda: [
           Mistake("scaling the daily volatility by 252 instead of sqrt(252)", math.sqrt(v_s) * h),
           Mistake("an annualized variance instead of a volatility: take the square root", v_s * h)])])


# Every check above takes ``params=P`` (the notebook's per-student parameters).
_params.parametrize(globals(), "alpha-beta")
