"""Volatility risk budgets: position sizes and their expected PnL.

A volatility budget ``B`` (dollars) caps the standard deviation of a
position's dollar PnL over a horizon of ``n`` periods. One dollar in an
asset whose per-period return has standard deviation ``vol`` has a PnL
standard deviation of ``vol * sqrt(n)`` over ``n`` independent periods, so
the budget allows ``B / (vol * sqrt(n))`` dollars.
"""

from __future__ import annotations

import numpy as np

from . import _validation as _v

__all__ = ["alpha_pnl", "expected_pnl", "position_size"]


def position_size(budget, vol, horizon):
    """Dollars that may be held under a volatility budget.

    Parameters
    ----------
    budget : float
        The cap on the dollar standard deviation of the position's PnL over
        ``horizon`` periods, in dollars; positive.
    vol : float or array
        Standard deviation of one period's return per dollar held (decimals),
        e.g. a daily volatility ``0.02``; positive. Use the residual
        volatility ``sqrt(var_e)`` for a position hedged against the factor.
    horizon : float or array
        Number of periods of the same frequency as ``vol`` (1, 21 or 252 trading
        days for daily ``vol``); positive.

    Returns
    -------
    float or numpy.ndarray
        ``budget / (vol * sqrt(horizon))`` dollars (an array if ``vol`` or
        ``horizon`` is one, broadcast numpy-style).

    Notes
    -----
    Assumes returns independent across periods, so the horizon variance is
    ``horizon * vol**2``. Hedging replaces ``vol`` by the smaller residual
    volatility, so the same budget buys a larger position.

    Examples
    --------
    >>> from solutions import position_size
    >>> position_size(1_000_000, 0.02, 1)
    50000000.0
    >>> round(position_size(1_000_000, 0.02, 252))
    3149704
    """
    budget = _v.array_like(budget, "budget", lower=0.0, strict=True)
    vol = _v.array_like(vol, "vol", lower=0.0, strict=True)
    horizon = _v.array_like(horizon, "horizon", lower=0.0, strict=True)
    return _v.result(budget / (vol * np.sqrt(horizon)))


def expected_pnl(size, alpha, beta, mu_f, periods_per_year):
    """Expected excess PnL over one year of an unhedged position.

    Parameters
    ----------
    size : float or array
        Dollars held in the asset (negative for a short).
    alpha, beta : float
        The asset's alpha (per period, decimals) and beta.
    mu_f : float
        Factor premium: mean factor return per period (decimals).
    periods_per_year : float
        252 for daily inputs, 12 for monthly.

    Returns
    -------
    float or numpy.ndarray
        ``size * (alpha + beta * mu_f) * periods_per_year`` dollars per year.

    Notes
    -----
    ``E[r_e] = alpha + beta E[f]`` because the residual has mean zero; the
    dollar PnL of ``size`` dollars is ``size`` times that, and one year has
    ``periods_per_year`` periods.

    Examples
    --------
    >>> from solutions import expected_pnl
    >>> round(expected_pnl(1_000_000, 0.0001, 1.2, 0.0003, 252), 2)
    115920.0
    """
    size = _v.array_like(size, "size")
    alpha = _v.scalar(alpha, "alpha")
    beta = _v.scalar(beta, "beta")
    mu_f = _v.scalar(mu_f, "mu_f")
    h = _v.periods_per_year(periods_per_year)
    return size * (alpha + beta * mu_f) * h


def alpha_pnl(size, alpha, periods_per_year):
    """Expected alpha-only (risk-adjusted) PnL over one year.

    Parameters
    ----------
    size : float or array
        Dollars held in the asset.
    alpha : float
        The asset's alpha per period (decimals).
    periods_per_year : float
        252 for daily inputs, 12 for monthly.

    Returns
    -------
    float or numpy.ndarray
        ``size * alpha * periods_per_year`` dollars per year: the expected PnL
        of the position once its beta is hedged, the part many firms pay on.

    Examples
    --------
    >>> from solutions import alpha_pnl
    >>> round(alpha_pnl(1_000_000, 0.0001, 252), 2)
    25200.0
    """
    size = _v.array_like(size, "size")
    alpha = _v.scalar(alpha, "alpha")
    h = _v.periods_per_year(periods_per_year)
    return size * alpha * h
