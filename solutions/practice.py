"""The five-ticker assignment, solved: everything the autograder checks.

A student picks five stocks from the bundled universe and, with the market
factor ``MKT``, computes the sample covariance matrix, a single-factor fit per
stock, the factor-implied covariance matrix, the parameter counts of both,
and looks at the residual correlations. :func:`five_ticker_report` does all
of it in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import factordata

from .covariance import implied_covariance, parameter_counts, residual_correlation, sample_covariance
from .factor_model import fit_factor_model

__all__ = ["FIT_COLUMNS", "FiveTickerReport", "N_TICKERS", "five_ticker_report"]

#: How many tickers the assignment asks for.
N_TICKERS = 5

#: Columns of :attr:`FiveTickerReport.fits`, in order.
FIT_COLUMNS = ("alpha", "beta", "var_e", "r2", "tstat_alpha", "tstat_beta")


@dataclass(frozen=True, eq=False, repr=False)
class FiveTickerReport:
    """Reference answers of the five-ticker assignment.

    All figures are per period of ``freq`` (decimals, decimals squared for
    variances and covariances); nothing is annualized.

    Attributes
    ----------
    tickers : tuple of str
        The five tickers, in the order given.
    freq : str
        ``"daily"`` or ``"monthly"``.
    periods_per_year : int
        252 or 12, for annualizing.
    sample_cov : pandas.DataFrame
        5 x 5 unrestricted sample covariance of the excess returns (``ddof=1``).
    fits : pandas.DataFrame
        One row per ticker, columns ``alpha, beta, var_e, r2, tstat_alpha,
        tstat_beta`` from :func:`solutions.fit_factor_model` on ``MKT``.
    var_f : float
        Sample variance of ``MKT`` (``ddof=1``).
    mu_f : float
        Mean of ``MKT``.
    implied_cov : pandas.DataFrame
        ``B B' var_f + diag(var_e)`` (5 x 5).
    difference : pandas.DataFrame
        ``implied_cov - sample_cov``. Its diagonal is zero up to rounding
        (the decomposition is exact in sample); the off-diagonal elements are
        minus the residual covariances.
    residual_corr : pandas.DataFrame
        Correlations of the five residual series.
    resid : pandas.DataFrame
        The residual series, one column per ticker.
    parameter_counts : dict
        ``{"factor_model": 11, "unrestricted": 15}``.
    max_abs_offdiag_error : float
        Largest ``|difference|`` off the diagonal.
    """

    tickers: tuple
    freq: str
    periods_per_year: int
    sample_cov: pd.DataFrame
    fits: pd.DataFrame
    var_f: float
    mu_f: float
    implied_cov: pd.DataFrame
    difference: pd.DataFrame
    residual_corr: pd.DataFrame
    resid: pd.DataFrame
    parameter_counts: dict
    max_abs_offdiag_error: float

    def __repr__(self) -> str:
        return (
            f"FiveTickerReport(tickers={list(self.tickers)}, freq={self.freq!r}, "
            f"nobs={len(self.resid)}, max_abs_offdiag_error={self.max_abs_offdiag_error:.3g})"
        )


def _check_tickers(tickers) -> tuple:
    valid = factordata.tickers()
    if isinstance(tickers, str) or not hasattr(tickers, "__iter__"):
        raise ValueError(
            f"tickers must be a list of {N_TICKERS} ticker strings, got {tickers!r}; "
            f"valid tickers are {valid}"
        )
    names = list(tickers)
    if not all(isinstance(t, str) for t in names):
        raise ValueError(f"tickers must be strings, got {names!r}")
    if len(names) != N_TICKERS:
        raise ValueError(
            f"tickers must name exactly {N_TICKERS} stocks, got {len(names)}: {names}; "
            f"valid tickers are {valid}"
        )
    unknown = [t for t in names if t not in valid]
    if unknown:
        raise ValueError(f"tickers contains unknown ticker(s) {unknown}; valid tickers are {valid}")
    if len(set(names)) != len(names):
        dupes = sorted({t for t in names if names.count(t) > 1})
        raise ValueError(f"tickers must be {N_TICKERS} distinct stocks; repeated: {dupes}")
    return tuple(names)


def five_ticker_report(tickers, freq: str = "daily") -> FiveTickerReport:
    """Solve the five-ticker assignment for the chosen stocks.

    Parameters
    ----------
    tickers : list of str
        Exactly five distinct tickers from ``factordata.tickers()``.
    freq : {"daily", "monthly"}, default "daily"
        Data frequency; the factor is ``MKT`` (S&P 500 excess return) at
        both frequencies.

    Returns
    -------
    FiveTickerReport
        Sample and implied covariance matrices, per-ticker fits, parameter
        counts and residual correlations; see :class:`FiveTickerReport`.

    Raises
    ------
    ValueError
        If ``tickers`` is not five distinct valid tickers, or ``freq`` is not
        ``"daily"`` or ``"monthly"`` (the message lists the valid choices).

    Notes
    -----
    Everything uses the same dates (the full sample of ``freq``) and the
    ``ddof=1`` convention, so the diagonal of the implied matrix equals the
    sample variances exactly (up to rounding) and only the off-diagonal
    elements test the model.

    Examples
    --------
    >>> from solutions import five_ticker_report
    >>> rep = five_ticker_report(["WMT", "JPM", "KO", "XOM", "MSFT"])
    >>> rep.parameter_counts
    {'factor_model': 11, 'unrestricted': 15}
    >>> list(rep.fits.columns)
    ['alpha', 'beta', 'var_e', 'r2', 'tstat_alpha', 'tstat_beta']
    >>> bool(abs(rep.difference.loc["WMT", "WMT"]) < 1e-15)
    True
    """
    names = _check_tickers(tickers)
    h = factordata.periods_per_year(freq)  # validates freq, naming the choices
    data = factordata.excess_returns(freq, list(names))
    f = data[factordata.MARKET]
    fits = {t: fit_factor_model(data[t], f) for t in names}
    table = pd.DataFrame(
        {col: [getattr(fits[t], col) for t in names] for col in FIT_COLUMNS},
        index=pd.Index(names, name="ticker"),
    )
    resid = pd.DataFrame({t: fits[t].resid for t in names})
    var_f = float(f.var(ddof=1))
    sample = sample_covariance(data[list(names)])
    implied = implied_covariance(table["beta"], var_f, table["var_e"])
    implied.index.name = sample.index.name
    implied.columns.name = sample.columns.name
    difference = implied - sample
    off = ~np.eye(N_TICKERS, dtype=bool)
    return FiveTickerReport(
        tickers=names,
        freq=freq,
        periods_per_year=h,
        sample_cov=sample,
        fits=table,
        var_f=var_f,
        mu_f=float(f.mean()),
        implied_cov=implied,
        difference=difference,
        residual_corr=residual_correlation(resid),
        resid=resid,
        parameter_counts=parameter_counts(N_TICKERS),
        max_abs_offdiag_error=float(np.abs(difference.to_numpy()[off]).max()),
    )
