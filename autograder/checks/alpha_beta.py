"""Checks for the ``alpha-beta`` assignment.

The student picks ``TICKER`` (any bundled stock except WMT and JPM, which the
chapter uses) and regresses its daily excess return on the market's daily
excess return. Every check takes the student's value and ``ticker=TICKER``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _data
from ._core import Mistake, as_number, as_series, compare, percent

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
    ], checklist="alpha is the intercept (const) of the OLS of the stock's daily excess return on a constant and the market's daily excess return.")


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
    ], checklist="beta is the slope of the OLS of the stock's daily excess return on a constant and the market's daily excess return.")


def resid(value, *, ticker) -> None:
    """Residual Series r_e - alpha - beta f, indexed by the dates of the data."""
    ticker, fit, what = _setup(ticker)
    got = as_series(value, "resid", fit.resid.index, index_desc="the dates of the daily data")
    r, f = _data.excess(ticker), _data.factor()
    compare(got, fit.resid, "resid", what=what, mistakes=[
        Mistake("residuals with the wrong sign (fitted minus actual)", -fit.resid),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).resid),
        Mistake("r_e - beta * f without subtracting alpha (that is the hedged return, whose mean is alpha)",
                r - fit.beta * f),
    ], checklist="resid is the stock's daily excess return minus alpha minus beta times the factor, on every date.")


def var_e(value, *, ticker) -> None:
    """Residual variance, daily, sample variance with ddof=1."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "var_e")
    e = fit.resid
    n = len(e)
    compare(got, fit.var_e, "var_e", what=what, mistakes=[
        Mistake("a variance with ddof=0 (dividing by n, numpy's default); the question asks for ddof=1", e.var(ddof=0)),
        Mistake("a variance with ddof=2 (statsmodels' mse_resid or scale, dividing by n - 2); the question asks for ddof=1",
                e.var(ddof=0) * n / (n - 2)),
        Mistake("a standard deviation (volatility) instead of a variance", math.sqrt(fit.var_e)),
        Mistake("the variance of the stock's excess return, not of the residual", _data.excess(ticker).var()),
        Mistake("an annualized variance; the question asks for the daily one", fit.var_e * _data.H),
        Mistake("a variance in percent squared (answers are decimals)", fit.var_e * 1e4),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).var_e),
    ], checklist="var_e is the sample variance (ddof=1) of the daily residuals.")


def r2(value, *, ticker) -> None:
    """R-squared of the regression (share of variance explained, decimal)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "r2")
    n = fit.nobs
    adj = 1 - (1 - fit.r2) * (n - 1) / (n - 2)
    compare(got, fit.r2, "r2", what=what, mistakes=[
        Mistake("the adjusted R-squared (rsquared_adj); the question asks for the plain R-squared", adj),
        Mistake("the correlation, not its square", math.sqrt(fit.r2)),
        Mistake("an R-squared in percent (answers are decimals)", percent(fit.r2)),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).r2),
    ], checklist="r2 is the regression's R-squared: 1 - Var(resid)/Var(r_e).")


def tstat_alpha(value, *, ticker) -> None:
    """t-statistic of alpha with the usual (non-robust) OLS standard error."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "tstat_alpha")
    compare(got, fit.tstat_alpha, "tstat_alpha", what=what, rtol=1e-5, mistakes=[
        Mistake("the t-statistic of beta, not of alpha", fit.tstat_beta),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).tstat_alpha),
        Mistake("the standard error of alpha, not the t-statistic (alpha divided by its standard error)", fit.se_alpha),
    ], checklist="tstat_alpha is alpha divided by its ordinary (non-robust) OLS standard error, as statsmodels' tvalues reports.")


def corr_resid_f(value, *, ticker) -> None:
    """Sample correlation of the residuals with the factor: zero up to rounding."""
    ticker, fit, _ = _setup(ticker)
    got = as_number(value, "corr_resid_f")
    if abs(got) <= 1e-8:
        return
    r, f = _data.excess(ticker), _data.factor()
    message = "corr_resid_f should be the correlation of the residuals with the factor, which OLS makes zero up to rounding (below 1e-8 in absolute value)."
    if np.isclose(got, r.corr(f), rtol=1e-6):
        message += " This matches the correlation of the stock's excess return with the factor: correlate resid, not r_e."
    raise AssertionError(message)


def alpha_annual(value, *, ticker) -> None:
    """Alpha annualized: daily alpha x 252, decimal per year."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "alpha_annual")
    compare(got, fit.alpha * _data.H, "alpha_annual", what=what, mistakes=[
        Mistake("annualizing daily alpha with 12 (that is for monthly data); daily data annualizes with 252", fit.alpha * 12),
        Mistake("an annual alpha in percent (answers are decimals)", percent(fit.alpha * _data.H)),
        Mistake("a compounded alpha, (1 + alpha)**252 - 1; the question asks for the arithmetic 252 x alpha",
                (1 + fit.alpha) ** _data.H - 1),
        Mistake("annualizing with sqrt(252): means scale with 252, only volatilities with its square root",
                fit.alpha * math.sqrt(_data.H)),
        Mistake("the daily alpha, not annualized", fit.alpha),
        Mistake(_ABOUT_RAW, lambda: _data.raw_fit(ticker).alpha * _data.H),
    ], checklist="annualize the daily alpha by multiplying by 252 trading days.")


def resid_vol_annual(value, *, ticker) -> None:
    """Annualized residual volatility: sqrt(var_e) x sqrt(252), decimal per year."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "resid_vol_annual")
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
    ], checklist="the annual residual volatility is the daily residual standard deviation (ddof=1) times sqrt(252).")
