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
from ._core import (COEF, SMALL, Carried, Mistake, as_frame, as_int, as_number, compare, differs, note_mistake, number_or_none,
                    percent, require_computed, solutions_module)

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
    ], checklist="DataFrame.cov() of the five daily excess-return columns.", precision=SMALL)


def fits(value, *, tickers, column=None) -> None:
    """DataFrame indexed by ticker with columns alpha, beta, var_e (daily).

    ``column``: check that column only (the hidden test gives each its own point).
    """
    names, rep, what = _setup(tickers)
    got = as_frame(value, "fits", pd.Index(list(names)), FIT_COLUMNS if column is None else (column,), extra_columns_ok=True,
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
    for col in (FIT_COLUMNS if column is None else (column,)):
        compare(got[col], want[col], f"fits['{col}']", what=what, mistakes=col_mistakes[col],
                checklist=checklist[col], precision=COEF if col == "beta" else SMALL)


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
        Mistake("a daily variance annualized with 12 (that is for monthly data); the question asks for the daily one",
                rep.var_f * 12),
        Mistake("returns in percent (a variance 10,000 times too large): returns are decimals", rep.var_f * 1e4),
        _data.subsample_finder(None, "var_f"),
    ], checklist="var_f is the sample variance (ddof=1) of the daily MKT column.", precision=SMALL)


def _own_fits(value, names):
    """The student's fits (beta and var_e columns on the tickers), or None when unusable."""
    if not isinstance(value, pd.DataFrame):
        return None
    try:
        out = value.loc[list(names), ["beta", "var_e"]].astype(float)
    except (KeyError, TypeError, ValueError):
        return None
    return None if out.isna().to_numpy().any() or out.index.has_duplicates else out


def implied_cov(value, *, tickers, fits=None, var_f=None) -> None:
    """5 x 5 factor-implied covariance B B' var_f + diag(var_e), labelled by ticker.

    ``fits`` and ``var_f``: the student's answers to questions 2 and 3; a
    matrix built from them passes when they are wrong (error carried forward).
    """
    names, rep, what = _setup(tickers)
    got = _square(value, "implied_cov", names)
    want = rep.implied_cov.loc[list(names), list(names)]
    fits_ = rep.fits.loc[list(names)]
    b = fits_["beta"].to_numpy()
    n = np.array([_data.fit(t).nobs for t in names])
    bb = np.outer(b, b) * rep.var_f
    frame = lambda a: pd.DataFrame(a, index=list(names), columns=list(names))
    own_fits = _own_fits(fits, names)
    own_vf = number_or_none(var_f)
    use_fits = own_fits if own_fits is not None else fits_[["beta", "var_e"]]
    use_vf = own_vf if own_vf is not None else rep.var_f

    def own_implied(var_e_scale=1.0):
        ob = use_fits["beta"].to_numpy()
        return frame(np.outer(ob, ob) * use_vf + np.diag(use_fits["var_e"].to_numpy() * var_e_scale))

    wrong = differs(own_fits, fits_[["beta", "var_e"]]) or differs(own_vf, rep.var_f)
    compare(got, want, "implied_cov", what=what, carried=[
        Carried("questions 2 and 3", "fits and var_f", wrong, own_implied, lambda: [
            Mistake("statsmodels' mse_resid (ddof=2) on the diagonal instead of var_e (ddof=1)", own_implied((n - 1) / (n - 2))),
            Mistake("an annualized matrix; the question asks for daily figures", own_implied() * _data.H)])],
        precision=SMALL, mistakes=[
        Mistake("statsmodels' mse_resid (residual variance with ddof=2) on the diagonal; use var_e with ddof=1",
                frame(bb + np.diag(fits_["var_e"].to_numpy() * (n - 1) / (n - 2)))),
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
    ], checklist="DataFrame.corr() of the five residual series (one column per ticker).", precision=COEF)


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
            (2 * (n + 1) + 1, "counting MKT as a stock: N is the number of stocks, without the factor"),
        ],
        "unrestricted": [
            (m.unrestricted_count_full_matrix(n), "counting every entry of the symmetric matrix: Cov(i, j) = Cov(j, i) is one parameter"),
            (m.unrestricted_count_without_variances(n), "counting only the covariances: the variances on the diagonal are parameters too"),
            ((n + 1) * (n + 2) // 2, "counting MKT as a stock: N is the number of stocks, without the factor"),
        ],
    }
    for key in COUNT_KEYS:
        if got[key] == want[key]:
            continue
        found = [text for wrong, text in hints[key] if wrong == got[key] and wrong != want[key]]
        message = f"{name}[{key!r}] is wrong for N = {n} stocks."
        if found:
            note_mistake(found[0])
        message += f" This matches {found[0]}." if found else (
            " Count each distinct parameter once: for the factor model the betas, the residual variances and Var(f); "
            "for the unrestricted matrix the variances and the distinct covariances."
        )
        raise AssertionError(message)


def counts(value, *, tickers) -> None:
    """Parameter counts for N = 5: {'factor_model': ..., 'unrestricted': ...}.

    Computed, not typed in (the judge knows which answers were typed in).
    """
    names = _data.check_tickers(tickers)
    _check_counts(value, "counts", len(names))
    require_computed("counts")


def counts_universe(value) -> None:
    """Parameter counts for N = every stock in factordata.tickers() (computed, not typed in)."""
    _check_counts(value, "counts_universe", len(factordata.tickers()))
    require_computed("counts_universe")
