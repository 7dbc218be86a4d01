"""Variance decomposition and hedging to a factor risk-share limit.

Because OLS makes the residual uncorrelated with the factor,

    Var(r_e) = beta**2 Var(f) + Var(eps),

a factor part plus an idiosyncratic part. The factor risk share is the first
part over the total.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _validation as _v

__all__ = ["VarianceDecomposition", "hedge_for_risk_share", "variance_decomposition"]


class VarianceDecomposition(NamedTuple):
    """Split of an asset's variance into factor and idiosyncratic parts.

    Attributes
    ----------
    factor : float
        ``beta**2 * var_f``, the variance the factor explains.
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
    """Split ``Var(r_e)`` into ``beta**2 var_f`` and ``var_e``.

    Parameters
    ----------
    beta : float, array or Series
        The asset's beta.
    var_f : float, array or Series
        Factor variance per period; positive.
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
    Variances are per period of the data; the share has no unit and no
    frequency (annualizing scales both parts by the same ``h``).

    Examples
    --------
    >>> from solutions import variance_decomposition
    >>> d = variance_decomposition(1.0, 0.0001, 0.0003)
    >>> round(d.total, 6), round(d.factor_share, 2)
    (0.0004, 0.25)
    """
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


def hedge_for_risk_share(vbar, beta, var_f, var_e) -> float:
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

    Returns
    -------
    float
        ``h``, the factor position per unit of the asset (negative is a short):
        0.0 if the unhedged share is already at most ``vbar``; otherwise the
        ``h`` of smallest magnitude with share exactly ``vbar``.

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

    Examples
    --------
    >>> from solutions import hedge_for_risk_share
    >>> h = hedge_for_risk_share(0.2, 1.5, 0.0001, 0.0004)
    >>> round(h, 4)
    -0.5
    >>> hedge_for_risk_share(0.0, 1.5, 0.0001, 0.0004)
    -1.5
    """
    vbar = _v.scalar(vbar, "vbar")
    if not 0.0 <= vbar < 1.0:
        raise ValueError(f"vbar must be in [0, 1) (a share of variance), got {vbar!r}")
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
