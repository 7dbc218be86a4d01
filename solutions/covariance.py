"""Factor-implied covariance matrices and their parameter counts.

If residuals are uncorrelated across assets, a single factor implies

    Cov(r_i, r_j) = beta_i beta_j Var(f)            (i != j)
    Var(r_i)      = beta_i**2 Var(f) + Var(eps_i),

that is ``Sigma = B B' Var(f) + diag(Var(eps))``. With ``K`` factors of
covariance matrix ``Sigma_f`` and the ``N x K`` matrix ``B`` of betas,
``Sigma = B Sigma_f B' + D`` with ``D = diag(Var(eps))``. Statistical factors
(:func:`pca_factors`) take ``B`` and the factors from the eigenvectors of the
sample covariance matrix instead.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _validation as _v
from .variance import _betas_cov_labels, _is_matrix

__all__ = [
    "PCAFactors",
    "implied_covariance",
    "ledoit_wolf_covariance",
    "min_variance_weights",
    "parameter_counts",
    "pca_factors",
    "residual_correlation",
    "sample_covariance",
]


def implied_covariance(betas, var_f, var_e) -> pd.DataFrame:
    """Covariance matrix implied by a factor model with uncorrelated residuals.

    Parameters
    ----------
    betas : pandas.Series, 1-D array, pandas.DataFrame or 2-D array
        One beta per asset; a Series' index labels the assets. With ``K``
        factors an ``N x K`` DataFrame (rows: assets, columns: factors,
        matched to ``var_f``'s labels) or array.
    var_f : float, or a K x K DataFrame or 2-D array
        Factor variance per period; positive. With ``K`` factors the
        factors' covariance matrix ``Sigma_f`` (off-diagonal covariances
        included).
    var_e : pandas.Series, 1-D array or float
        Residual variance per asset, per period; non-negative. A Series is
        matched to ``betas`` by label (it must have exactly the same labels);
        an array by position (same length); a float is used for every asset.

    Returns
    -------
    pandas.DataFrame
        ``B B' var_f + diag(var_e)`` (``B Sigma_f B' + diag(var_e)``), rows
        and columns labelled like ``betas`` (0, 1, ... for arrays). Same
        frequency as the inputs.

    Notes
    -----
    The matrix is exactly symmetric. ``N`` assets need ``2N + 1`` parameters
    with one factor, ``NK + K(K + 1)/2 + N`` with ``K`` (see
    :func:`parameter_counts`). The off-diagonal elements differ from the
    sample covariances wherever residuals of different assets co-move.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import implied_covariance
    >>> betas = pd.Series({"A": 1.0, "B": 0.5})
    >>> cov = implied_covariance(betas, 0.0001, pd.Series({"A": 0.0002, "B": 0.0001}))
    >>> cov.to_numpy().round(6).tolist()
    [[0.0003, 5e-05], [5e-05, 0.000125]]

    Two factors:

    >>> B = pd.DataFrame({"M": [1.0, 0.5], "S": [0.2, -0.4]}, index=["A", "B"])
    >>> sigma_f = pd.DataFrame([[1e-4, 0.0], [0.0, 5e-5]], index=["M", "S"], columns=["M", "S"])
    >>> implied_covariance(B, sigma_f, 1e-4).to_numpy().round(7).tolist()
    [[0.000202, 4.6e-05], [4.6e-05, 0.000133]]
    """
    if _is_matrix(var_f):
        return _implied_several(betas, var_f, var_e)
    if isinstance(betas, pd.DataFrame) or np.ndim(betas) == 2:
        raise ValueError("betas must be a Series or 1-D array of betas when var_f is a number; "
                         "for K factors pass an N x K DataFrame of betas and a K x K factor covariance matrix")
    b = _v.series(betas, "betas")
    if len(b) == 0:
        raise ValueError("betas must contain at least one beta")
    if b.index.has_duplicates:
        raise ValueError(f"betas has duplicate labels: {list(b.index)}")
    if not np.isfinite(b.to_numpy()).all():
        raise ValueError("betas must be finite (no NaN or infinity)")
    var_f = _v.positive(var_f, "var_f")
    e = _residual_variances(var_e, b.index)
    bv = b.to_numpy()
    sigma = np.outer(bv, bv) * var_f
    sigma[np.diag_indices_from(sigma)] += e
    return pd.DataFrame(sigma, index=b.index.copy(), columns=b.index.copy())


def _residual_variances(var_e, assets: pd.Index) -> np.ndarray:
    """var_e as one non-negative number per asset: a Series by label, an array by position, or a float."""
    if isinstance(var_e, pd.Series):
        e = _v.array_like(var_e, "var_e", lower=0.0)
        if set(e.index) != set(assets) or len(e) != len(assets):
            raise ValueError(
                f"var_e must have the same labels as betas: betas {list(assets)}, var_e {list(e.index)}"
            )
        return e.loc[assets].to_numpy()
    if np.ndim(var_e) == 0:
        return np.full(len(assets), _v.nonnegative(var_e, "var_e"))
    e = _v.array_like(var_e, "var_e", lower=0.0)
    if e.shape != (len(assets),):
        raise ValueError(f"var_e must have one value per beta (asset) ({len(assets)}), got shape {e.shape}")
    return e


def _implied_several(betas, factor_cov, var_e) -> pd.DataFrame:
    if isinstance(betas, pd.DataFrame):
        frame = betas
    elif isinstance(betas, np.ndarray) and betas.ndim == 2:
        frame = pd.DataFrame(betas)
    else:
        raise ValueError("betas must be an N x K DataFrame (assets by factors) when var_f is a "
                         "K x K factor covariance matrix")
    if frame.shape[0] == 0:
        raise ValueError("betas must contain at least one asset")
    if frame.index.has_duplicates:
        raise ValueError(f"betas has duplicate asset labels: {list(frame.index)}")
    frame = _v.array_like(frame, "betas")
    # check the factor covariance and the factor labels once, with the first asset's betas
    cov_frame = factor_cov if isinstance(factor_cov, pd.DataFrame) else None
    if cov_frame is not None and isinstance(betas, pd.DataFrame):
        if set(frame.columns) != set(cov_frame.columns) or frame.shape[1] != cov_frame.shape[1]:
            raise ValueError(f"betas' columns must be var_f's factors {list(cov_frame.columns)}, "
                             f"got {list(frame.columns)}")
        frame = frame.loc[:, list(cov_frame.columns)]
    _, sigma, _ = _betas_cov_labels(frame.iloc[0].to_numpy(), factor_cov, "var_f")
    e = _residual_variances(var_e, frame.index)
    B = frame.to_numpy()
    out = B @ sigma @ B.T
    out = (out + out.T) / 2  # exactly symmetric
    out[np.diag_indices_from(out)] += e
    return pd.DataFrame(out, index=frame.index.copy(), columns=frame.index.copy())


def parameter_counts(n, k=1) -> dict:
    """Number of parameters of a ``k``-factor and of an unrestricted covariance matrix.

    Parameters
    ----------
    n : int
        Number of assets; at least 1.
    k : int, default 1
        Number of factors; at least 1.

    Returns
    -------
    dict
        ``{"factor_model": n k + k(k + 1)/2 + n, "unrestricted": n(n + 1)/2}``:
        the factor model needs ``n k`` betas, the ``k`` factor variances and
        ``k(k - 1)/2`` factor covariances, and ``n`` residual variances
        (``2n + 1`` for one factor); an unrestricted matrix ``n`` variances
        and ``n(n - 1)/2`` covariances.

    Notes
    -----
    The factor model is the smaller one when ``n`` is large against ``k``:
    its count grows linearly in ``n``, the unrestricted one quadratically.

    Examples
    --------
    >>> from solutions import parameter_counts
    >>> parameter_counts(5)
    {'factor_model': 11, 'unrestricted': 15}
    >>> parameter_counts(500)
    {'factor_model': 1001, 'unrestricted': 125250}
    >>> parameter_counts(5, k=3)
    {'factor_model': 26, 'unrestricted': 15}
    """
    n = _whole(n, "n", "assets")
    k = _whole(k, "k", "factors")
    return {"factor_model": n * k + k * (k + 1) // 2 + n, "unrestricted": n * (n + 1) // 2}


def _whole(value, name: str, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number of {what}, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be at least 1, got {int(value)}")
    return int(value)


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


class PCAFactors(NamedTuple):
    """Statistical factors: the first principal components of a sample covariance matrix.

    Attributes
    ----------
    loadings : pandas.DataFrame
        ``N x k`` eigenvectors (unit length), rows by asset, columns
        ``PC1, PC2, ...``; the sign of each is chosen so its loadings sum to a
        positive number.
    factors : pandas.DataFrame
        ``T x k`` factor returns ``returns @ loadings``: each is the return of
        the portfolio with weights ``loadings[:, j]``.
    eigenvalues : pandas.Series
        The ``k`` largest eigenvalues of the sample covariance (``ddof=1``):
        each equals the sample variance of its factor.
    explained : pandas.Series
        Each eigenvalue over the trace of the sample covariance: the share of
        the assets' total variance the factor explains.
    """

    loadings: pd.DataFrame
    factors: pd.DataFrame
    eigenvalues: pd.Series
    explained: pd.Series


def pca_factors(returns: pd.DataFrame, k: int) -> PCAFactors:
    """The first ``k`` principal components of the returns' sample covariance, as factors.

    Parameters
    ----------
    returns : pandas.DataFrame
        One column per asset (excess returns per period); rows with a NaN are
        dropped first. Needs at least 2 rows.
    k : int
        Number of components, between 1 and the number of assets.

    Returns
    -------
    PCAFactors
        ``(loadings, factors, eigenvalues, explained)``, see :class:`PCAFactors`.

    Notes
    -----
    With ``S = V Lambda V'`` the eigendecomposition of the sample covariance
    (eigenvalues in decreasing order), the loadings are the first ``k``
    columns of ``V`` and the factors ``f_t = V_k' r_t``. The sample covariance
    of the factors is ``diag(lambda_1..lambda_k)``: they are uncorrelated. No
    other ``k`` portfolios explain more of the assets' total variance
    ``trace(S)`` in sample, which is why comparing them with economic factors
    in sample flatters them.

    Examples
    --------
    >>> import factordata
    >>> from solutions import pca_factors
    >>> monthly = factordata.excess_returns("monthly")
    >>> pca = pca_factors(monthly[factordata.tickers()], 3)
    >>> list(pca.factors.columns), pca.loadings.shape
    (['PC1', 'PC2', 'PC3'], (19, 3))
    >>> bool(pca.explained.is_monotonic_decreasing and pca.explained.sum() < 1)
    True
    """
    frame = _frame(returns, "returns")
    n_assets = frame.shape[1]
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n_assets:
        raise ValueError(f"k must be a whole number of components from 1 to {n_assets}, got {k!r}")
    k = int(k)
    cov = frame.cov(ddof=1).to_numpy()
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    values, vectors = values[order], vectors[:, order]
    vectors = vectors * np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    names = [f"PC{j + 1}" for j in range(k)]
    loadings = pd.DataFrame(vectors, index=frame.columns.copy(), columns=names)
    factors = pd.DataFrame(frame.to_numpy() @ vectors, index=frame.index.copy(), columns=names)
    eigenvalues = pd.Series(values, index=names, name="eigenvalue")
    return PCAFactors(loadings, factors, eigenvalues, (eigenvalues / np.trace(cov)).rename("explained"))


def ledoit_wolf_covariance(returns) -> np.ndarray:
    """Ledoit-Wolf shrinkage of the sample covariance towards a multiple of the identity.

    Parameters
    ----------
    returns : pandas.DataFrame or 2-D array
        ``T x N`` returns, one column per asset, no missing values; at least 2 rows.

    Returns
    -------
    numpy.ndarray
        ``N x N`` matrix ``(1 - delta) S + delta (trace(S) / N) I``, with ``S``
        the sample covariance with denominator ``T`` (``ddof=0``) and the
        intensity ``delta`` in ``[0, 1]`` estimated from the data.

    Notes
    -----
    The estimator of Ledoit and Wolf (2004), the same numbers as
    ``sklearn.covariance.LedoitWolf().fit(returns).covariance_``, written in
    numpy because a backtest calls it hundreds of times on small matrices,
    where sklearn's input checks cost more than the arithmetic (chapter 5
    shows the derivation and the check against sklearn).

    Examples
    --------
    >>> import numpy as np
    >>> from solutions import ledoit_wolf_covariance
    >>> x = np.random.default_rng(0).normal(size=(30, 4))
    >>> lw = ledoit_wolf_covariance(x)
    >>> lw.shape, bool(np.allclose(lw, lw.T))
    ((4, 4), True)
    """
    x = _v.array_like(returns, "returns")
    x = x.to_numpy() if isinstance(x, pd.DataFrame) else np.asarray(x)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"returns must be a T x N table with at least 2 rows, got shape {x.shape}")
    n_obs, n_assets = x.shape
    xc = x - x.mean(axis=0)
    S = xc.T @ xc / n_obs
    target = np.trace(S) / n_assets * np.eye(n_assets)
    phi = ((xc**2).T @ xc**2 / n_obs - S**2).sum() / (n_assets * n_obs)  # noise in S
    gamma = ((S - target) ** 2).sum() / n_assets  # distance of S from the target
    delta = 0.0 if min(phi, gamma) == 0 else min(phi, gamma) / gamma
    return (1 - delta) * S + delta * target


def min_variance_weights(cov) -> np.ndarray:
    """Weights of the global minimum-variance portfolio: ``Sigma^-1 1 / (1' Sigma^-1 1)``.

    Parameters
    ----------
    cov : pandas.DataFrame or 2-D array
        ``N x N`` covariance matrix, positive definite.

    Returns
    -------
    numpy.ndarray
        ``N`` weights that sum to one (short sales allowed).

    Notes
    -----
    Solves ``Sigma x = 1`` rather than inverting ``Sigma``. The portfolio
    depends on nothing but the covariance matrix, so its out-of-sample risk
    judges the matrix's quality.

    Examples
    --------
    >>> import numpy as np
    >>> from solutions import min_variance_weights
    >>> min_variance_weights(np.diag([1.0, 4.0])).tolist()
    [0.8, 0.2]
    """
    sigma = _v.array_like(cov, "cov")
    sigma = sigma.to_numpy() if isinstance(sigma, pd.DataFrame) else np.asarray(sigma)
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise ValueError(f"cov must be a square covariance matrix, got shape {sigma.shape}")
    try:
        x = np.linalg.solve(sigma, np.ones(len(sigma)))
    except np.linalg.LinAlgError:
        raise ValueError("cov must be invertible (positive definite); a sample covariance from T <= N "
                         "observations is singular") from None
    return x / x.sum()
