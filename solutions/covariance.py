"""Factor-implied covariance matrices and their parameter counts.

If residuals are uncorrelated across assets, a single factor implies

    Cov(r_i, r_j) = beta_i beta_j Var(f)            (i != j)
    Var(r_i)      = beta_i**2 Var(f) + Var(eps_i),

that is ``Sigma = B B' Var(f) + diag(Var(eps))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _validation as _v

__all__ = ["implied_covariance", "parameter_counts", "residual_correlation", "sample_covariance"]


def implied_covariance(betas, var_f, var_e) -> pd.DataFrame:
    """Covariance matrix implied by a single-factor model.

    Parameters
    ----------
    betas : pandas.Series or 1-D array
        One beta per asset; a Series' index labels the assets.
    var_f : float
        Factor variance per period; positive.
    var_e : pandas.Series, 1-D array or float
        Residual variance per asset, per period; non-negative. A Series is
        matched to ``betas`` by label (it must have exactly the same labels);
        an array by position (same length); a float is used for every asset.

    Returns
    -------
    pandas.DataFrame
        ``B B' var_f + diag(var_e)``, rows and columns labelled like ``betas``
        (0, 1, ... for arrays). Same frequency as the inputs.

    Notes
    -----
    The matrix is exactly symmetric. ``N`` assets need ``2N + 1`` parameters
    (see :func:`parameter_counts`). The off-diagonal elements differ from the
    sample covariances wherever residuals of different assets co-move.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import implied_covariance
    >>> betas = pd.Series({"A": 1.0, "B": 0.5})
    >>> cov = implied_covariance(betas, 0.0001, pd.Series({"A": 0.0002, "B": 0.0001}))
    >>> cov.to_numpy().round(6).tolist()
    [[0.0003, 5e-05], [5e-05, 0.000125]]
    """
    if isinstance(betas, pd.DataFrame):
        raise ValueError("betas must be a Series or 1-D array of betas, got a DataFrame")
    b = _v.series(betas, "betas")
    if len(b) == 0:
        raise ValueError("betas must contain at least one beta")
    if b.index.has_duplicates:
        raise ValueError(f"betas has duplicate labels: {list(b.index)}")
    if not np.isfinite(b.to_numpy()).all():
        raise ValueError("betas must be finite (no NaN or infinity)")
    var_f = _v.positive(var_f, "var_f")
    if isinstance(var_e, pd.Series):
        e = _v.array_like(var_e, "var_e", lower=0.0)
        if set(e.index) != set(b.index) or len(e) != len(b):
            raise ValueError(
                f"var_e must have the same labels as betas: betas {list(b.index)}, var_e {list(e.index)}"
            )
        e = e.loc[b.index].to_numpy()
    elif np.ndim(var_e) == 0:
        e = np.full(len(b), _v.nonnegative(var_e, "var_e"))
    else:
        e = _v.array_like(var_e, "var_e", lower=0.0)
        if e.shape != (len(b),):
            raise ValueError(f"var_e must have one value per beta ({len(b)}), got shape {e.shape}")
    bv = b.to_numpy()
    sigma = np.outer(bv, bv) * var_f
    sigma[np.diag_indices_from(sigma)] += e
    return pd.DataFrame(sigma, index=b.index.copy(), columns=b.index.copy())


def parameter_counts(n) -> dict:
    """Number of parameters of a one-factor and of an unrestricted covariance matrix.

    Parameters
    ----------
    n : int
        Number of assets; at least 1.

    Returns
    -------
    dict
        ``{"factor_model": 2n + 1, "unrestricted": n(n + 1)/2}``: the factor
        model needs ``n`` betas, ``n`` residual variances and one factor
        variance; an unrestricted matrix ``n`` variances and ``n(n - 1)/2``
        covariances.

    Examples
    --------
    >>> from solutions import parameter_counts
    >>> parameter_counts(5)
    {'factor_model': 11, 'unrestricted': 15}
    >>> parameter_counts(500)
    {'factor_model': 1001, 'unrestricted': 125250}
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be a whole number of assets, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return {"factor_model": 2 * n + 1, "unrestricted": n * (n + 1) // 2}


def sample_covariance(returns: pd.DataFrame) -> pd.DataFrame:
    """Unrestricted sample covariance matrix (``ddof=1``) of the columns of ``returns``.

    Parameters
    ----------
    returns : pandas.DataFrame
        One column per asset, returns per period; rows with any NaN are
        dropped first so every entry uses the same dates.

    Returns
    -------
    pandas.DataFrame
        ``returns.cov()`` (denominator ``n - 1``), per period squared.

    Examples
    --------
    >>> import factordata
    >>> from solutions import sample_covariance
    >>> monthly = factordata.excess_returns("monthly", ["WMT", "KO"])
    >>> sample_covariance(monthly[["WMT", "KO"]]).shape
    (2, 2)
    """
    frame = _frame(returns, "returns")
    return frame.cov(ddof=1)


def residual_correlation(resids: pd.DataFrame) -> pd.DataFrame:
    """Correlation matrix of factor-model residuals across assets.

    Parameters
    ----------
    resids : pandas.DataFrame
        One column of residuals per asset (rows with a NaN are dropped).

    Returns
    -------
    pandas.DataFrame
        The sample correlation matrix. The factor-implied covariance assumes
        its off-diagonal elements are zero; large ones (industry peers)
        show where the assumption fails.

    Examples
    --------
    >>> import factordata
    >>> from solutions import fit_factor_model, residual_correlation
    >>> daily = factordata.excess_returns("daily", ["XOM", "CVX"])
    >>> resid = pd.DataFrame({t: fit_factor_model(daily[t], daily["MKT"]).resid for t in ["XOM", "CVX"]})
    >>> bool(residual_correlation(resid).loc["XOM", "CVX"] > 0.3)
    True
    """
    return _frame(resids, "resids").corr()


def _frame(value, name: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame with one column per asset")
    frame = value.dropna()
    if len(frame) < 2:
        raise ValueError(f"{name} needs at least 2 complete rows, got {len(frame)}")
    try:
        return frame.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain numbers only") from None
