"""Checks for the ``five-tickers`` assignment (the practice of the syllabus).

The student sets ``TICKERS`` to five distinct bundled tickers; every check
takes ``tickers=TICKERS`` and compares with
``solutions.five_ticker_report(TICKERS)`` on daily data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

import factordata

from . import _data
from ._core import (Mistake, as_frame, as_int, as_number, compare, percent, solutions_module)

FIT_COLUMNS = ("alpha", "beta", "var_e")
COUNT_KEYS = ("factor_model", "unrestricted")


def _setup(tickers):
    names = _data.check_tickers(tickers)
    return names, _report(names), f"the daily excess returns of {', '.join(names)}"


def tickers(value) -> None:
    """``TICKERS`` lists five distinct bundled tickers."""
    _data.check_tickers(value)


@functools.lru_cache(maxsize=16)
def _report(names: tuple):
    return solutions_module().five_ticker_report(list(names), freq=_data.FREQ)


@functools.lru_cache(maxsize=16)
def _raw_returns(names: tuple) -> pd.DataFrame:
    rf = _data.risk_free()
    return pd.DataFrame({t: _data.excess(t) + rf for t in names})


def _square(value, name, names):
    idx = pd.Index(list(names))
    return as_frame(value, name, idx, list(names), index_desc=f"the tickers {', '.join(names)}")


def sample_cov(value, *, tickers) -> None:
    """5 x 5 sample covariance (ddof=1) of daily excess returns, labelled by ticker."""
    names, rep, what = _setup(tickers)
    if isinstance(value, pd.DataFrame) and factordata.MARKET in value.columns:
        raise AssertionError(f"sample_cov should cover the five stocks only; drop the {factordata.MARKET} column.")
    got = _square(value, "sample_cov", names)
    want = rep.sample_cov.loc[list(names), list(names)]
    excess = pd.DataFrame({t: _data.excess(t) for t in names})
    compare(got, want, "sample_cov", what=what, mistakes=[
        Mistake("a covariance with ddof=0 (numpy's np.cov(bias=True) or DataFrame.cov(ddof=0)); the question asks for ddof=1",
                lambda: solutions_module().mistakes.sample_covariance_ddof0(excess)),
        Mistake("a correlation matrix instead of a covariance matrix", excess.corr()),
        Mistake("an annualized covariance; the question asks for daily figures", want * _data.H),
        Mistake("returns in percent (covariances 10,000 times too large)", want * 1e4),
        Mistake("raw returns instead of excess returns (subtract the risk-free rate)", lambda: _raw_returns(names).cov()),
    ], checklist="DataFrame.cov() of the five daily excess-return columns.")


def fits(value, *, tickers) -> None:
    """DataFrame indexed by ticker with columns alpha, beta, var_e (daily)."""
    names, rep, what = _setup(tickers)
    got = as_frame(value, "fits", pd.Index(list(names)), FIT_COLUMNS, extra_columns_ok=True,
                   index_desc=f"the tickers {', '.join(names)}")
    want = rep.fits.loc[list(names), list(FIT_COLUMNS)]
    raw = lambda col: pd.Series({t: getattr(_data.raw_fit(t), col) for t in names})
    nobs = rep.fits.index.map(lambda t: _data.fit(t).nobs).to_series(index=rep.fits.index).loc[list(names)]
    col_mistakes = {
        "alpha": [
            Mistake("alphas already annualized; the question asks for daily alphas", want["alpha"] * _data.H),
            Mistake("alphas in percent (answers are decimals)", percent(want["alpha"])),
            Mistake("regressions on raw returns instead of excess returns", lambda: raw("alpha")),
            Mistake("the mean excess returns, not the regression intercepts",
                    pd.Series({t: _data.excess(t).mean() for t in names})),
        ],
        "beta": [
            Mistake("regressions on raw returns instead of excess returns", lambda: raw("beta")),
            Mistake("correlations with the market instead of regression slopes",
                    pd.Series({t: _data.excess(t).corr(_data.factor()) for t in names})),
        ],
        "var_e": [
            Mistake("residual variances with ddof=0; the question asks for ddof=1", want["var_e"] * (nobs - 1) / nobs),
            Mistake("residual variances with ddof=2 (statsmodels' mse_resid or scale); the question asks for ddof=1",
                    want["var_e"] * (nobs - 1) / (nobs - 2)),
            Mistake("residual volatilities (std) instead of variances", np.sqrt(want["var_e"])),
            Mistake("the total variances of the excess returns, not the residual variances",
                    pd.Series({t: _data.excess(t).var() for t in names})),
        ],
    }
    checklist = {
        "alpha": "each alpha is the intercept of the OLS of that stock's daily excess return on a constant and MKT.",
        "beta": "each beta is the slope of the OLS of that stock's daily excess return on a constant and MKT.",
        "var_e": "each var_e is the sample variance (ddof=1) of that stock's residuals.",
    }
    for col in FIT_COLUMNS:
        compare(got[col], want[col], f"fits['{col}']", what=what, mistakes=col_mistakes[col],
                checklist=checklist[col])


def var_f(value, *, tickers) -> None:
    """Daily variance (ddof=1) of the market factor MKT."""
    names, rep, what = _setup(tickers)
    got = as_number(value, "var_f")
    f = _data.factor()
    n = len(f)
    compare(got, rep.var_f, "var_f", what="the daily market excess return (MKT)", mistakes=[
        Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", rep.var_f * (n - 1) / n),
        Mistake("a volatility (std) instead of a variance", rep.var_f**0.5),
        Mistake("an annualized variance; the question asks for the daily one", rep.var_f * _data.H),
        Mistake("the raw market return instead of the excess return", (f + _data.risk_free()).var()),
    ], checklist="var_f is the sample variance (ddof=1) of the daily MKT column.")


def implied_cov(value, *, tickers) -> None:
    """5 x 5 factor-implied covariance B B' var_f + diag(var_e), labelled by ticker."""
    names, rep, what = _setup(tickers)
    got = _square(value, "implied_cov", names)
    want = rep.implied_cov.loc[list(names), list(names)]
    fits_ = rep.fits.loc[list(names)]
    b = fits_["beta"].to_numpy()
    n = np.array([_data.fit(t).nobs for t in names])
    bb = np.outer(b, b) * rep.var_f
    frame = lambda a: pd.DataFrame(a, index=list(names), columns=list(names))
    compare(got, want, "implied_cov", what=what, mistakes=[
        Mistake("B B' var_f without the residual variances on the diagonal (+ diag(var_e))",
                lambda: solutions_module().mistakes.implied_covariance_without_idiosyncratic(fits_["beta"], rep.var_f)
                .loc[list(names), list(names)]),
        Mistake("var_e added to every entry instead of only the diagonal", frame(bb + fits_["var_e"].to_numpy()[None, :])),
        Mistake("variances with ddof=0 (var_f and var_e); the question asks for ddof=1",
                frame(bb * (len(_data.factor()) - 1) / len(_data.factor()) + np.diag(fits_["var_e"].to_numpy() * (n - 1) / n))),
        Mistake("betas not multiplied by var_f (B B' + diag(var_e))", frame(np.outer(b, b) + np.diag(fits_["var_e"].to_numpy()))),
        Mistake("residual volatilities instead of variances on the diagonal", frame(bb + np.diag(np.sqrt(fits_["var_e"].to_numpy())))),
        Mistake("an annualized matrix; the question asks for daily figures", want * _data.H),
    ], checklist="implied_cov = outer(beta, beta) x var_f, plus var_e on the diagonal.")


def resid_corr(value, *, tickers) -> None:
    """5 x 5 correlation matrix of the five residual series."""
    names, rep, what = _setup(tickers)
    got = _square(value, "resid_corr", names)
    want = rep.residual_corr.loc[list(names), list(names)]
    excess = pd.DataFrame({t: _data.excess(t) for t in names})
    compare(got, want, "resid_corr", what=what, rtol=1e-5, mistakes=[
        Mistake("the correlation of the excess returns, not of the residuals", excess.corr()),
        Mistake("a covariance matrix of the residuals instead of correlations", rep.resid.loc[:, list(names)].cov()),
    ], checklist="DataFrame.corr() of the five residual series (one column per ticker).")


def _counts(value, name: str) -> dict:
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if not isinstance(value, Mapping):
        raise AssertionError(f"{name} should be a dict with keys 'factor_model' and 'unrestricted', got {type(value).__name__}.")
    missing = [k for k in COUNT_KEYS if k not in value]
    if missing:
        raise AssertionError(f"{name} is missing the key(s) {missing}; use 'factor_model' and 'unrestricted'.")
    return {k: as_int(value[k], f"{name}[{k!r}]") for k in COUNT_KEYS}


def _check_counts(value, name: str, n: int) -> None:
    got = _counts(value, name)
    want = solutions_module().parameter_counts(n)
    m = solutions_module().mistakes
    hints = {
        "factor_model": [
            (m.factor_count_without_factor_variance(n), "forgetting the factor variance Var(f), which the factor model also needs"),
            (n + 1, "counting only the betas and Var(f): the residual variances are parameters too"),
            (2 * n + 2, "counting the factor mean as well: the covariance matrix only needs betas, residual variances and Var(f)"),
        ],
        "unrestricted": [
            (m.unrestricted_count_full_matrix(n), "counting every entry of the symmetric matrix: Cov(i, j) = Cov(j, i) is one parameter"),
            (m.unrestricted_count_without_variances(n), "counting only the covariances: the variances on the diagonal are parameters too"),
        ],
    }
    for key in COUNT_KEYS:
        if got[key] == want[key]:
            continue
        message = f"{name}[{key!r}] is not the right number of parameters for N = {n} assets."
        found = [text for wrong, text in hints[key] if wrong == got[key] and wrong != want[key]]
        message += f" This matches {found[0]}." if found else (
            " Count each distinct parameter once: for the factor model the betas, the residual variances and Var(f); "
            "for the unrestricted matrix the variances and the distinct covariances."
        )
        raise AssertionError(message)


def counts(value, *, tickers) -> None:
    """Parameter counts for N = 5: {'factor_model': ..., 'unrestricted': ...}."""
    names = _data.check_tickers(tickers)
    _check_counts(value, "counts", len(names))


def counts_universe(value) -> None:
    """Parameter counts for N = every stock in factordata.tickers()."""
    _check_counts(value, "counts_universe", len(factordata.tickers()))
