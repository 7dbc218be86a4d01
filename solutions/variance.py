"""Variance decomposition and hedging to a factor risk-share limit.

Because OLS makes the residual uncorrelated with the factor,

    Var(r_e) = beta**2 Var(f) + Var(eps),

a factor part plus an idiosyncratic part. The factor risk share is the first
part over the total. With ``K`` factors of covariance matrix ``Sigma_f``,

    Var(r_e) = b' Sigma_f b + Var(eps),

and the factor part splits into one contribution per factor (Euler):
``b_k (Sigma_f b)_k``, which includes factor ``k``'s covariances with the
others and can be negative.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _validation as _v

__all__ = ["VarianceDecomposition", "factor_contributions", "hedge_for_risk_share", "variance_decomposition"]


class VarianceDecomposition(NamedTuple):
    """Split of an asset's variance into factor and idiosyncratic parts.

    Attributes
    ----------
    factor : float
        ``beta**2 * var_f``, the variance the factor explains
        (``b' Sigma_f b`` with several factors).
    idiosyncratic : float
        ``var_e``, the residual variance.
    total : float
        ``factor + idiosyncratic`` = ``Var(r_e)``.
    factor_share : float
        ``factor / total``, between 0 and 1 (in sample it equals the R-squared).
    """

    factor: float
    idiosyncratic: float
    total: float
    factor_share: float


def variance_decomposition(beta, var_f, var_e) -> VarianceDecomposition:
    """Split ``Var(r_e)`` into ``beta**2 var_f`` (``b' Sigma_f b``) and ``var_e``.

    Parameters
    ----------
    beta : float, array or Series
        The asset's beta. With several factors: its betas, a Series matched
        to ``var_f``'s labels, or an array in ``var_f``'s order.
    var_f : float, array, Series, or a K x K DataFrame or 2-D array
        Factor variance per period; positive. A square DataFrame or 2-D
        array is the factors' covariance matrix ``Sigma_f`` (symmetric,
        positive semi-definite): then ``beta`` holds one beta per factor
        and ``var_e`` is a number.
    var_e : float, array or Series
        Residual (idiosyncratic) variance per period; non-negative.
        Arrays and Series are combined elementwise (e.g. rolling-window
        estimates), broadcasting numpy-style; Series must share one index
        and contain no NaN (drop a rolling window's warm-up first).

    Returns
    -------
    VarianceDecomposition
        Named tuple ``(factor, idiosyncratic, total, factor_share)``; each
        field is a float for scalar inputs, else an array or Series.

    Notes
    -----
    ``total = beta**2 var_f + var_e``; ``factor_share = beta**2 var_f / total``.
    With ``K`` factors ``total = b' Sigma_f b + var_e``: the off-diagonal
    covariances of ``Sigma_f`` count (a diagonal ``Sigma_f`` is wrong unless
    the factors are uncorrelated). Variances are per period of the data; the
    share has no unit and no frequency (annualizing scales both parts by the
    same ``h``).

    Examples
    --------
    >>> from solutions import variance_decomposition
    >>> d = variance_decomposition(1.0, 0.0001, 0.0003)
    >>> round(d.total, 6), round(d.factor_share, 2)
    (0.0004, 0.25)
    >>> import numpy as np
    >>> sigma_f = np.array([[0.0016, 0.0002], [0.0002, 0.0009]])
    >>> d = variance_decomposition(np.array([1.0, 0.5]), sigma_f, 0.0030)
    >>> round(d.factor, 6), round(d.factor_share, 3)
    (0.002025, 0.403)
    """
    if _is_matrix(var_f):
        b, sigma, _ = _betas_cov_labels(beta, var_f, "var_f")
        var_e = _v.nonnegative(var_e, "var_e")
        factor = float(b @ sigma @ b)
        total = factor + var_e
        if total <= 0:
            raise ValueError("the betas and var_e are all zero: total variance is zero, the share is undefined")
        return VarianceDecomposition(factor, var_e, total, factor / total)
    beta = _v.array_like(beta, "beta")
    var_f = _v.array_like(var_f, "var_f", lower=0.0, strict=True)
    var_e = _v.array_like(var_e, "var_e", lower=0.0)
    named = (("beta", beta), ("var_f", var_f), ("var_e", var_e))
    indexed = {n: x.index for n, x in named if isinstance(x, pd.Series)}
    first = next(iter(indexed), None)
    for n, idx in indexed.items():
        if not idx.equals(indexed[first]):
            raise ValueError(f"{n} and {first} must have the same index (same dates), so they line up")
    factor = beta**2 * var_f
    total = factor + var_e
    if np.any(np.asarray(total) <= 0):
        raise ValueError("beta and var_e are both zero: total variance is zero, the share is undefined")
    idio = var_e + 0 * factor  # broadcast to the common shape without changing values
    return VarianceDecomposition(factor, idio, total, factor / total)


def hedge_for_risk_share(vbar, beta, var_f, var_e, *, legs=None):
    """Smallest factor hedge that brings the factor risk share down to ``vbar``.

    Parameters
    ----------
    vbar : float
        Largest factor share of variance allowed, in ``[0, 1)``.
    beta : float
        Beta of the unhedged asset.
    var_f : float
        Factor variance per period; positive.
    var_e : float
        Residual variance per period; non-negative.
    legs : str or list of str, optional
        Several factors only (``var_f`` a ``K x K`` covariance matrix,
        ``beta`` one beta per factor): the factors to hedge in; default all.

    Returns
    -------
    float or pandas.Series
        ``h``, the factor position per unit of the asset (negative is a short):
        0.0 if the unhedged share is already at most ``vbar``; otherwise the
        ``h`` of smallest magnitude with share exactly ``vbar``. With several
        factors a Series of positions by factor (zero outside ``legs``).

    Notes
    -----
    Holding 1 of the asset and ``h`` of the factor gives beta ``beta + h`` and
    factor share ``s(h) = (beta + h)**2 var_f / ((beta + h)**2 var_f + var_e)``.
    ``s(h) <= vbar`` means ``|beta + h| <= b*`` with
    ``b* = sqrt(vbar var_e / ((1 - vbar) var_f))``, so the smallest hedge is
    ``h = b* - beta`` for ``beta > 0`` and ``h = -b* - beta`` for ``beta < 0``.
    ``vbar = 0`` gives ``h = -beta`` (fully hedged). The size of the position
    cancels: ``h`` is per dollar of the asset. Inputs are scalars; the same
    frequency for ``var_f`` and ``var_e`` (the share is frequency-free).

    With several factors the hedge shrinks the betas of the hedged legs by a
    common factor ``c`` in ``[0, 1]`` (``h_k = -(1 - c) b_k`` on each leg),
    the largest ``c`` with ``(b_rest + c b_legs)' Sigma_f (b_rest + c b_legs)
    <= vbar var_e / (1 - vbar)``; with all legs that is
    ``c = sqrt(vbar var_e / ((1 - vbar) b' Sigma_f b))``, and with one
    factor it is the formula above. If even a full hedge of ``legs`` leaves
    too much factor risk (the other legs' exposure alone is above the
    limit), a ``ValueError`` says so.

    Examples
    --------
    >>> from solutions import hedge_for_risk_share
    >>> h = hedge_for_risk_share(0.2, 1.5, 0.0001, 0.0004)
    >>> round(h, 4)
    -0.5
    >>> hedge_for_risk_share(0.0, 1.5, 0.0001, 0.0004)
    -1.5
    >>> import pandas as pd
    >>> cov = pd.DataFrame([[0.0016, 0.0], [0.0, 0.0009]], index=["M", "S"], columns=["M", "S"])
    >>> hedge_for_risk_share(0.2, pd.Series({"M": 1.0, "S": 0.5}), cov, 0.002, legs=["M"]).round(4).to_dict()
    {'M': -0.5854, 'S': 0.0}
    """
    vbar = _v.scalar(vbar, "vbar")
    if not 0.0 <= vbar < 1.0:
        raise ValueError(f"vbar must be in [0, 1) (a share of variance), got {vbar!r}")
    if _is_matrix(var_f):
        return _hedge_several(vbar, beta, var_f, var_e, legs)
    if legs is not None:
        raise ValueError("legs applies to several factors only: pass var_f as a K x K factor covariance matrix")
    beta = _v.scalar(beta, "beta")
    var_f = _v.positive(var_f, "var_f")
    var_e = _v.nonnegative(var_e, "var_e")
    if beta == 0.0:
        return 0.0
    factor = beta**2 * var_f
    if factor / (factor + var_e) <= vbar:
        return 0.0
    b_star = np.sqrt(vbar * var_e / ((1.0 - vbar) * var_f))
    return float(np.copysign(b_star, beta) - beta)


def _is_matrix(value) -> bool:
    return isinstance(value, pd.DataFrame) or (isinstance(value, np.ndarray) and value.ndim == 2)


def _betas_cov_labels(betas, factor_cov, cov_name: str):
    """Check a factor covariance matrix and a matching vector of betas.

    A Series of betas is matched to a DataFrame's labels (same set); arrays by
    position. Returns ``(b, Sigma_f, labels)``: a 1-D array, a symmetric 2-D
    array and the factor names (``f1, f2, ...`` for an array).
    """
    sigma = _v.array_like(factor_cov, cov_name)
    values = sigma.to_numpy() if isinstance(sigma, pd.DataFrame) else np.asarray(sigma)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"{cov_name} must be a square K x K factor covariance matrix, got shape {values.shape}")
    if not np.allclose(values, values.T, rtol=1e-10, atol=1e-14):
        raise ValueError(f"{cov_name} must be symmetric (a covariance matrix)")
    if (np.diag(values) <= 0).any():
        raise ValueError(f"{cov_name} must have positive variances on its diagonal")
    if np.linalg.eigvalsh((values + values.T) / 2).min() < -1e-12 * np.abs(values).max():
        raise ValueError(f"{cov_name} must be positive semi-definite (a covariance matrix)")
    k = values.shape[0]
    labels = list(sigma.columns) if isinstance(sigma, pd.DataFrame) else [f"f{i + 1}" for i in range(k)]
    if isinstance(sigma, pd.DataFrame) and list(sigma.index) != labels:
        raise ValueError(f"{cov_name} must have the same labels on its rows and columns, in the same order")
    if isinstance(betas, pd.Series):
        b = _v.array_like(betas, "beta")
        if isinstance(sigma, pd.DataFrame):
            if set(b.index) != set(labels) or len(b) != k:
                raise ValueError(f"beta must be labelled by {cov_name}'s factors {labels}, got {list(b.index)}")
            b = b.loc[labels]
        b = b.to_numpy()
    else:
        b = np.atleast_1d(np.asarray(_v.array_like(betas, "beta"), dtype=float))
    if b.shape != (k,):
        raise ValueError(f"beta must hold one beta per factor ({k}), got shape {b.shape}")
    return b, values, labels


def factor_contributions(betas, factor_cov, var_e) -> pd.Series:
    """Each factor's contribution to the asset's variance, as a share of it (Euler).

    Parameters
    ----------
    betas : pandas.Series or 1-D array
        The asset's betas, one per factor (a Series is matched to
        ``factor_cov``'s labels).
    factor_cov : pandas.DataFrame or 2-D array
        ``K x K`` covariance matrix of the factors, per period, ``ddof=1``.
    var_e : float
        Residual variance, per period; non-negative.

    Returns
    -------
    pandas.Series
        ``b_k (Sigma_f b)_k / Var(r_e)`` by factor name (``f1, f2, ...`` for
        arrays), named ``"contribution"``. The entries add up to the factor
        share; one can be negative.

    Notes
    -----
    ``b' Sigma_f b = sum_k b_k (Sigma_f b)_k``: factor ``k``'s contribution
    is its beta times the covariance of the factor with the whole tracking
    portfolio ``b' f``, ``b_k Cov(f_k, b' f)``. It holds factor ``k``'s own
    variance ``b_k**2 Var(f_k)`` plus its half of every cross term
    ``b_k b_j Cov(f_k, f_j)``. The split is the Euler allocation: each
    contribution is ``b_k`` times the derivative of the factor variance with
    respect to ``b_k``, over two. Leaving out the cross terms
    (``b_k**2 Var(f_k)`` alone) does not add up to the factor share unless
    the factors are uncorrelated.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import factor_contributions
    >>> cov = pd.DataFrame([[0.0016, -0.0004], [-0.0004, 0.0009]], index=["M", "S"], columns=["M", "S"])
    >>> factor_contributions(pd.Series({"M": 1.0, "S": 0.5}), cov, 0.002).round(4).to_dict()
    {'M': 0.4088, 'S': 0.0073}
    """
    b, sigma, labels = _betas_cov_labels(betas, factor_cov, "factor_cov")
    var_e = _v.nonnegative(var_e, "var_e")
    total = float(b @ sigma @ b) + var_e
    if total <= 0:
        raise ValueError("the betas and var_e are all zero: total variance is zero, the shares are undefined")
    return pd.Series(b * (sigma @ b) / total, index=labels, name="contribution")


def _hedge_several(vbar, beta, var_f, var_e, legs):
    """hedge_for_risk_share with a factor covariance matrix: scale the hedged legs' betas down."""
    b, sigma, labels = _betas_cov_labels(beta, var_f, "var_f")
    var_e = _v.nonnegative(var_e, "var_e")
    if legs is None:
        legs = labels
    if isinstance(legs, str):
        legs = [legs]
    legs = list(legs)
    unknown = [g for g in legs if g not in labels]
    if unknown or not legs or len(set(legs)) != len(legs):
        raise ValueError(f"legs must name distinct factors among {labels}, got {legs}")
    on = np.array([lab in legs for lab in labels])
    out = pd.Series(0.0, index=labels, name="hedge")
    factor = float(b @ sigma @ b)
    if factor / (factor + var_e) <= vbar:
        return out
    # exposure after the hedge: b_rest + c b_legs, c in [0, 1]; its factor variance
    # F(c) = a c^2 + 2 m c + r must come down to Fbar = vbar var_e / (1 - vbar).
    b_legs, b_rest = np.where(on, b, 0.0), np.where(on, 0.0, b)
    a, m, r = b_legs @ sigma @ b_legs, b_legs @ sigma @ b_rest, b_rest @ sigma @ b_rest
    fbar = vbar * var_e / (1.0 - vbar)
    disc = m * m - a * (r - fbar)
    c = (-m + np.sqrt(disc)) / a if (a > 0 and disc >= 0) else -1.0
    if c < 0:
        raise ValueError(f"vbar={vbar!r} cannot be met by hedging only {legs}: even a full hedge of those legs "
                         "leaves a larger factor share; hedge more legs")
    out[:] = np.where(on, -(1.0 - c) * b, 0.0)
    return out
