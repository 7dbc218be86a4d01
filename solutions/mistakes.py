"""Common mistakes, reproduced on purpose.

Each function computes what a student gets after one specific, common
mistake, so the autograder can compare a wrong answer with these variants
and name the slip ("you regressed raw returns", "daily data annualizes with
252, not 12") instead of only saying "wrong". None of these is a correct
method; each docstring says what the correct one is.

:func:`diagnose` does the comparison: give it the student's value, the
correct value and a mapping of candidate mistakes to their values, and it
returns the name of the first mistake the value matches.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import _validation as _v
from .factor_model import FactorFit, fit_factor_model
from .variance import _betas_cov_labels, factor_contributions, hedge_for_risk_share

__all__ = [
    "ANNUALIZE_KINDS",
    "alpha_on_raw_returns",
    "annualize_daily_with_12",
    "annualize_monthly_with_252",
    "annualize_variance_with_sqrt",
    "annualize_vol_linearly",
    "beta_on_raw_returns",
    "contributions_without_cross_terms",
    "diagnose",
    "diagonal_factor_cov",
    "expected_pnl_not_annualized",
    "factor_count_without_factor_variance",
    "factor_share_of_vols",
    "fit_on_raw_market",
    "fit_on_raw_returns",
    "hedge_full_beta",
    "hedge_sign_flipped",
    "hedge_without_sqrt",
    "implied_covariance_without_idiosyncratic",
    "percent_not_decimal",
    "position_size_with_variance",
    "position_size_without_sqrt",
    "sample_covariance_ddof0",
    "unrestricted_count_full_matrix",
    "unrestricted_count_without_variances",
    "variance_ddof0",
]

#: The kinds of figure :func:`annualize_daily_with_12` knows, and how each scales.
ANNUALIZE_KINDS = {"mean": "h", "variance": "h", "vol": "sqrt(h)", "sharpe": "sqrt(h)"}

_MARKETS = ("raw", "excess")


# --------------------------------------------------------------- regressions
def fit_on_raw_returns(r_e, f, rf, market: str = "raw") -> FactorFit:
    """Mistake: fitting the factor model to raw returns instead of excess returns.

    Parameters
    ----------
    r_e : pandas.Series
        The asset's excess returns; the raw return is ``r_e + rf``.
    f : pandas.Series
        The market's excess return; its raw return is ``f + rf``.
    rf : pandas.Series
        Risk-free return per period, aligned on dates with ``r_e`` and ``f``.
    market : {"raw", "excess"}, default "raw"
        ``"raw"``: raw asset return on raw market return (forgot to subtract
        rf from both). ``"excess"``: raw asset return on the excess market
        (forgot it for the asset only).

    Returns
    -------
    FactorFit
        The (wrong) fit. The correct one is ``fit_factor_model(r_e, f)``.

    Notes
    -----
    If rf were constant, ``market="raw"`` would leave the slope at ``beta``
    and move the intercept to ``alpha + (1 - beta) rf``; ``market="excess"``
    would move it to ``alpha + rf``. Because rf varies a little, the slopes
    also pick up ``Cov(rf, .)`` terms. rf hardly varies from one period to the
    next, so the mistake shows mostly in alpha, and least for beta near 1.
    """
    if market not in _MARKETS:
        raise ValueError(f"market must be one of {list(_MARKETS)}, got {market!r}")
    y, x = _v.aligned_pair(r_e, f, "r_e", "f")
    y, r = _v.aligned_pair(y, rf, "r_e", "rf")
    x = x.loc[y.index]
    raw_y = y + r
    raw_x = x + r if market == "raw" else x
    return fit_factor_model(raw_y.rename(y.name), raw_x.rename(x.name))


def beta_on_raw_returns(r_e, f, rf, market: str = "raw") -> float:
    """Mistake: beta of raw (not excess) returns. See :func:`fit_on_raw_returns`.

    Returns
    -------
    float
        The slope of ``r_e + rf`` on ``f + rf`` (``market="raw"``) or on ``f``
        (``market="excess"``).
    """
    return fit_on_raw_returns(r_e, f, rf, market).beta


def alpha_on_raw_returns(r_e, f, rf, market: str = "raw") -> float:
    """Mistake: alpha of raw (not excess) returns. See :func:`fit_on_raw_returns`."""
    return fit_on_raw_returns(r_e, f, rf, market).alpha


def fit_on_raw_market(r_e, factors, rf, market: str = "Mkt-RF") -> FactorFit:
    """Mistake: a multi-factor fit with the raw market return (``Mkt-RF`` plus ``RF``) as a factor.

    Parameters
    ----------
    r_e : pandas.Series
        The asset's excess returns.
    factors : pandas.DataFrame
        The factors, one column each (e.g. ``Mkt-RF``, ``SMB``, ``HML``).
    rf : pandas.Series
        Risk-free return per period; added back to the ``market`` column.
    market : str, default "Mkt-RF"
        The column that holds the market's excess return.

    Returns
    -------
    FactorFit
        The (wrong) fit. The correct one is ``fit_factor_model(r_e, factors)``:
        every factor must be an excess (or long-short) return, like ``r_e``.
        The raw market return drags the risk-free rate into the regression,
        which moves alpha by about ``-b_M mean(rf)``.
    """
    frame = _v.factor_frame(factors, "factors")
    if market not in frame.columns:
        raise ValueError(f"market must be one of the columns of factors {list(frame.columns)}, got {market!r}")
    y, r = _v.aligned_pair(r_e, rf, "r_e", "rf")
    frame = frame.loc[frame.index.intersection(y.index, sort=False)]
    frame[market] = frame[market] + r.loc[frame.index]
    return fit_factor_model(y, frame)


# --------------------------------------------------------------- frequencies and units
def annualize_daily_with_12(value, kind: str):
    """Mistake: annualizing a *daily* figure with 12 periods per year (monthly's) instead of 252.

    Parameters
    ----------
    value : float or array
        The daily figure.
    kind : {"mean", "variance", "vol", "sharpe"}
        Means and variances are multiplied by 12, vols and Sharpe ratios by
        ``sqrt(12)``.

    Returns
    -------
    float or array
        The wrongly annualized figure; the correct one uses 252.

    Examples
    --------
    >>> from solutions.mistakes import annualize_daily_with_12
    >>> round(annualize_daily_with_12(0.001, "mean"), 6)
    0.012
    """
    return _annualize_with(value, kind, 12)


def annualize_monthly_with_252(value, kind: str):
    """Mistake: annualizing a *monthly* figure with 252 (daily's periods per year) instead of 12.

    Parameters and kinds as :func:`annualize_daily_with_12`, with 252 in place
    of 12 (``sqrt(252)`` for vols and Sharpe ratios).

    Examples
    --------
    >>> from solutions.mistakes import annualize_monthly_with_252
    >>> round(annualize_monthly_with_252(0.001, "mean"), 6)
    0.252
    """
    return _annualize_with(value, kind, 252)


def _annualize_with(value, kind: str, h: int):
    if kind not in ANNUALIZE_KINDS:
        raise ValueError(f"kind must be one of {list(ANNUALIZE_KINDS)}, got {kind!r}")
    value = _v.array_like(value, "value")
    return _v.result(value * h if ANNUALIZE_KINDS[kind] == "h" else value * np.sqrt(h))


def annualize_vol_linearly(vol, periods_per_year):
    """Mistake: annualizing a volatility with ``h`` instead of ``sqrt(h)``.

    Returns ``vol * periods_per_year``; correct is ``vol * sqrt(periods_per_year)``.
    """
    h = _v.periods_per_year(periods_per_year)
    return _v.array_like(vol, "vol") * h


def annualize_variance_with_sqrt(var, periods_per_year):
    """Mistake: annualizing a variance with ``sqrt(h)`` instead of ``h``.

    Returns ``var * sqrt(periods_per_year)``; correct is ``var * periods_per_year``.
    """
    h = _v.periods_per_year(periods_per_year)
    return _v.result(_v.array_like(var, "var") * np.sqrt(h))


def percent_not_decimal(value):
    """Mistake: answering in percent where decimals were asked (``value * 100``).

    Examples
    --------
    >>> from solutions.mistakes import percent_not_decimal
    >>> percent_not_decimal(0.25)
    25.0
    """
    return _v.array_like(value, "value") * 100.0


def variance_ddof0(x) -> float:
    """Mistake: population variance (divide by ``n``) instead of the sample variance (``n - 1``).

    Returns ``np.var(x, ddof=0)`` on the non-missing values; the course
    convention is ``ddof=1`` (pandas' ``.var()``), which makes
    ``Var(r_e) = beta**2 Var(f) + Var(eps)`` hold exactly.
    """
    s = _v.series(x, "x").dropna()
    if len(s) == 0:
        raise ValueError("x has no non-missing values")
    return float(np.var(s.to_numpy(), ddof=0))


def sample_covariance_ddof0(returns: pd.DataFrame) -> pd.DataFrame:
    """Mistake: covariance matrix with denominator ``n`` (``ddof=0``) instead of ``n - 1``."""
    if not isinstance(returns, pd.DataFrame):
        raise ValueError("returns must be a pandas DataFrame with one column per asset")
    return returns.dropna().cov(ddof=0)


# --------------------------------------------------------------- risk budgets
def position_size_without_sqrt(budget, vol, horizon):
    """Mistake: scaling the volatility by the horizon instead of its square root.

    Returns ``budget / (vol * horizon)``; correct is ``budget / (vol * sqrt(horizon))``.
    """
    budget = _v.array_like(budget, "budget", lower=0.0, strict=True)
    vol = _v.array_like(vol, "vol", lower=0.0, strict=True)
    horizon = _v.array_like(horizon, "horizon", lower=0.0, strict=True)
    return budget / (vol * horizon)


def position_size_with_variance(budget, vol, horizon):
    """Mistake: dividing the budget by the variance instead of the volatility.

    Takes the same ``vol`` as :func:`solutions.position_size` and returns
    ``budget / (vol**2 * sqrt(horizon))``.
    """
    budget = _v.array_like(budget, "budget", lower=0.0, strict=True)
    vol = _v.array_like(vol, "vol", lower=0.0, strict=True)
    horizon = _v.array_like(horizon, "horizon", lower=0.0, strict=True)
    return _v.result(budget / (vol**2 * np.sqrt(horizon)))


def expected_pnl_not_annualized(size, alpha, beta, mu_f):
    """Mistake: expected PnL per period instead of per year (forgot ``* periods_per_year``).

    Returns ``size * (alpha + beta * mu_f)``.
    """
    size = _v.array_like(size, "size")
    return size * (_v.scalar(alpha, "alpha") + _v.scalar(beta, "beta") * _v.scalar(mu_f, "mu_f"))


# --------------------------------------------------------------- risk shares and hedges
def factor_share_of_vols(beta, var_f, var_e) -> float:
    """Mistake: factor share measured with volatilities, ``|beta| sigma_f / sigma_total``.

    That is the square root of the correct share ``beta**2 var_f / total``.
    """
    beta = _v.scalar(beta, "beta")
    var_f = _v.positive(var_f, "var_f")
    var_e = _v.nonnegative(var_e, "var_e")
    return float(abs(beta) * np.sqrt(var_f) / np.sqrt(beta**2 * var_f + var_e))


def hedge_sign_flipped(vbar, beta, var_f, var_e) -> float:
    """Mistake: the right size of hedge with the wrong sign (buying the factor instead of selling).

    Returns ``-hedge_for_risk_share(vbar, beta, var_f, var_e)``.
    """
    return -hedge_for_risk_share(vbar, beta, var_f, var_e)


def hedge_full_beta(vbar, beta, var_f, var_e) -> float:
    """Mistake: hedging all of beta (``h = -beta``) whatever the limit ``vbar``.

    Meets the limit but sells more of the factor than needed whenever ``vbar > 0``.
    """
    hedge_for_risk_share(vbar, beta, var_f, var_e)  # same input checks
    return -float(beta)


def hedge_without_sqrt(vbar, beta, var_f, var_e) -> float:
    """Mistake: forgetting the square root in ``b* = sqrt(vbar var_e / ((1 - vbar) var_f))``.

    Returns ``sign(beta) * vbar var_e / ((1 - vbar) var_f) - beta`` when a
    hedge is needed, else 0.0 (like the correct function).
    """
    h = hedge_for_risk_share(vbar, beta, var_f, var_e)
    if h == 0.0:
        return 0.0
    b2 = float(vbar) * float(var_e) / ((1.0 - float(vbar)) * float(var_f))
    return float(np.copysign(b2, float(beta)) - float(beta))


def diagonal_factor_cov(factor_cov) -> pd.DataFrame:
    """Mistake: the factors' covariance matrix without its covariances (only the variances).

    Returns ``diag(diag(Sigma_f))``, labelled like ``factor_cov``. Use it in
    place of ``Sigma_f`` in :func:`solutions.variance_decomposition` or
    :func:`solutions.implied_covariance` to reproduce "forgot the factor
    covariances". Correct unless the factors are uncorrelated, which SMB, HML
    and the market are not.
    """
    _, sigma, labels = _betas_cov_labels(np.ones(np.shape(factor_cov)[0]), factor_cov, "factor_cov")
    return pd.DataFrame(np.diag(np.diag(sigma)), index=labels, columns=labels)


def contributions_without_cross_terms(betas, factor_cov, var_e) -> pd.Series:
    """Mistake: factor contributions ``b_k**2 Var(f_k) / Var(r_e)``, without the cross terms.

    The correct (Euler) contribution is ``b_k (Sigma_f b)_k / Var(r_e)``
    (:func:`solutions.factor_contributions`); without the covariances the
    contributions do not add up to the factor share.
    """
    correct = factor_contributions(betas, factor_cov, var_e)
    b, sigma, _ = _betas_cov_labels(betas, factor_cov, "factor_cov")
    total = float(b @ sigma @ b) + float(var_e)
    return pd.Series(b**2 * np.diag(sigma) / total, index=correct.index, name="contribution")


# --------------------------------------------------------------- covariance matrices
def implied_covariance_without_idiosyncratic(betas, var_f) -> pd.DataFrame:
    """Mistake: ``B B' var_f`` without ``+ diag(var_e)`` (diagonal too small, matrix singular)."""
    from .covariance import implied_covariance

    return implied_covariance(betas, var_f, 0.0)


def unrestricted_count_full_matrix(n) -> int:
    """Mistake: counting all ``n**2`` entries of a symmetric matrix (correct: ``n(n + 1)/2``)."""
    return _count(n) ** 2


def unrestricted_count_without_variances(n) -> int:
    """Mistake: counting only the ``n(n - 1)/2`` covariances and forgetting the ``n`` variances."""
    n = _count(n)
    return n * (n - 1) // 2


def factor_count_without_factor_variance(n) -> int:
    """Mistake: ``2n`` factor-model parameters, forgetting the factor variance (correct: ``2n + 1``)."""
    return 2 * _count(n)


def _count(n) -> int:
    from .covariance import parameter_counts

    parameter_counts(n)  # same checks as the correct function
    return int(n)


# --------------------------------------------------------------- matching
def diagnose(value, reference, candidates: Mapping, rtol: float = 1e-6, atol: float = 0.0):
    """Name the first candidate mistake that ``value`` matches, or ``None``.

    Parameters
    ----------
    value : float, array or DataFrame
        The student's answer.
    reference : float, array or DataFrame
        The correct answer. If ``value`` matches it, the answer is right and
        the result is ``None``; a candidate equal to the reference (a mistake
        that happens not to matter for this input) is never reported.
    candidates : mapping of str to float, array or DataFrame
        Mistake names mapped to the values those mistakes produce, in the
        order they should be tried (dicts keep insertion order).
    rtol, atol : float
        Tolerances as in ``numpy.isclose``: ``|value - c| <= atol + rtol * |c|``
        elementwise.

    Returns
    -------
    str or None
        The first matching candidate's name; ``None`` if the value is correct,
        matches no candidate, contains NaN, or has the wrong shape.

    Notes
    -----
    Pure: no input is changed and nothing is printed. Pandas objects are
    compared by position after converting to arrays; align them first.

    Examples
    --------
    >>> from solutions.mistakes import diagnose
    >>> daily_mean = 0.0004
    >>> diagnose(0.0048, daily_mean * 252, {"annualized with 12": daily_mean * 12})
    'annualized with 12'
    >>> diagnose(daily_mean * 252, daily_mean * 252, {"annualized with 12": daily_mean * 12}) is None
    True
    """
    if not isinstance(candidates, Mapping):
        raise ValueError("candidates must be a mapping from mistake name to value")
    rtol = _v.nonnegative(rtol, "rtol")
    atol = _v.nonnegative(atol, "atol")
    v = _as_array(value)
    if v is None:
        return None
    ref = _as_array(reference)
    if ref is not None and _close(v, ref, rtol, atol):
        return None
    for name, candidate in candidates.items():
        c = _as_array(candidate)
        if c is None:
            continue
        if ref is not None and _close(c, ref, rtol, atol):
            continue
        if _close(v, c, rtol, atol):
            return name
    return None


def _as_array(x):
    try:
        a = np.asarray(x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else x, dtype=float)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(a)):
        return None
    return a


def _close(a, b, rtol, atol) -> bool:
    if a.shape != b.shape:
        return False
    return bool(np.all(np.isclose(a, b, rtol=rtol, atol=atol)))
