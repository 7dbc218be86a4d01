"""Annualizing per-period figures, and the Sharpe ratio.

Returns that are independent from period to period add up: over ``h``
periods the mean and the variance grow ``h`` times, so the volatility and
the Sharpe ratio grow ``sqrt(h)`` times. ``h`` (``periods_per_year``) is 252
for daily data and 12 for monthly data; it is always passed explicitly.
Beta is a ratio of a covariance to a variance and does not scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _validation as _v

__all__ = ["annualize_mean", "annualize_variance", "annualize_vol", "sharpe_ratio"]


def annualize_mean(mean, periods_per_year):
    """Annualize a mean return: ``mean * periods_per_year``.

    Parameters
    ----------
    mean : float, array, Series or DataFrame
        Mean return per period (decimals), e.g. a daily alpha.
    periods_per_year : float
        252 for daily data, 12 for monthly data.

    Returns
    -------
    float, array or Series
        Mean return per year, same type as ``mean``.

    Examples
    --------
    >>> from solutions import annualize_mean
    >>> round(annualize_mean(0.0004, 252), 4)
    0.1008
    """
    h = _v.periods_per_year(periods_per_year)
    return _v.array_like(mean, "mean") * h


def annualize_variance(var, periods_per_year):
    """Annualize a variance: ``var * periods_per_year``.

    Parameters
    ----------
    var : float, array, Series or DataFrame
        Variance per period (decimals squared); must be non-negative.
        A square DataFrame is read as a covariance matrix (its off-diagonal
        elements may be negative): covariances also scale with ``h``.
    periods_per_year : float
        252 for daily data, 12 for monthly data.

    Returns
    -------
    float, array or Series
        Variance per year.

    Examples
    --------
    >>> from solutions import annualize_variance
    >>> round(annualize_variance(0.0001, 252), 4)
    0.0252
    """
    h = _v.periods_per_year(periods_per_year)
    if isinstance(var, pd.DataFrame) and var.shape[0] == var.shape[1]:
        out = _v.array_like(var, "var")  # a covariance matrix: only variances must be >= 0
        if (np.diag(out.to_numpy()) < 0).any():
            raise ValueError("var: the diagonal of a covariance matrix (the variances) must be non-negative")
        return out * h
    return _v.array_like(var, "var", lower=0.0) * h


def annualize_vol(vol, periods_per_year):
    """Annualize a volatility (standard deviation): ``vol * sqrt(periods_per_year)``.

    Parameters
    ----------
    vol : float, array, Series or DataFrame
        Standard deviation per period (decimals); must be non-negative.
    periods_per_year : float
        252 for daily data, 12 for monthly data.

    Returns
    -------
    float, array or Series
        Volatility per year.

    Notes
    -----
    The square root comes from variances adding over independent periods:
    ``sqrt(h * vol**2) = vol * sqrt(h)``.

    Examples
    --------
    >>> from solutions import annualize_vol
    >>> round(annualize_vol(0.01, 252), 4)
    0.1587
    """
    h = _v.periods_per_year(periods_per_year)
    return _v.result(_v.array_like(vol, "vol", lower=0.0) * np.sqrt(h))


def sharpe_ratio(excess, periods_per_year):
    """Annualized Sharpe ratio of per-period excess returns.

    Parameters
    ----------
    excess : pandas.Series, 1-D array or pandas.DataFrame
        Excess returns (decimals per period). NaNs are dropped; at least two
        observations must remain. A DataFrame gives one ratio per column.
    periods_per_year : float
        252 for daily data, 12 for monthly data.

    Returns
    -------
    float or pandas.Series
        ``mean(excess) / std(excess, ddof=1) * sqrt(periods_per_year)``;
        a Series (one per column) for a DataFrame.

    Notes
    -----
    Applied to hedged returns ``r_e - beta f`` this is the appraisal
    (information) ratio ``alpha / sigma_eps * sqrt(h)``.

    Examples
    --------
    >>> import factordata
    >>> from solutions import sharpe_ratio
    >>> daily = factordata.excess_returns("daily")
    >>> bool(0 < sharpe_ratio(daily["MKT"], 252) < 1)
    True
    """
    h = _v.periods_per_year(periods_per_year)
    if isinstance(excess, pd.DataFrame):
        out = {}
        for col in excess.columns:
            try:
                out[col] = sharpe_ratio(excess[col], h)
            except ValueError as exc:
                raise ValueError(f"{exc} (column {col!r})") from None
        return pd.Series(out, name="sharpe_ratio", dtype=float)
    x = _v.series(excess, "excess").dropna()
    if len(x) < 2:
        raise ValueError(f"excess needs at least 2 non-missing returns, got {len(x)}")
    if not np.isfinite(x.to_numpy()).all():
        raise ValueError("excess must not contain infinite values")
    sd = float(x.std(ddof=1))
    if not sd > 0:
        raise ValueError("excess must vary: its standard deviation is zero")
    return float(x.mean()) / sd * float(np.sqrt(h))
