"""The factor model: estimation, tracking and hedged returns.

The model for an asset's excess return ``r_e`` on a factor return ``f``
(here the market's excess return) is

    r_e[t] = alpha + beta * f[t] + eps[t],

estimated by ordinary least squares of ``r_e`` on a constant and ``f``.
With ``K`` factors (a DataFrame ``f``, one column per factor, such as the
Fama-French market, size and value factors) it is

    r_e[t] = alpha + b' f[t] + eps[t],

with ``b`` the vector of the asset's factor betas. All quantities carry the
frequency of the data (per day for daily returns, per month for monthly);
only the betas are the same at every frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _validation as _v

__all__ = ["FactorFit", "fit_factor_model", "hedge_positions", "hedged_returns", "tracking_returns"]


@dataclass(frozen=True, eq=False, repr=False)
class FactorFit:
    """Result of :func:`fit_factor_model`: the OLS fit of ``r_e = alpha + b' f + eps``.

    Every number is per period of the data (per day for daily returns, per
    month for monthly), in decimals.

    Attributes
    ----------
    alpha : float
        Intercept: the mean excess return not explained by the factors,
        ``mean(r_e) - b' mean(f)``.
    beta : float or None
        One factor: the slope, ``Cov(r_e, f) / Var(f)``. ``None`` when the
        model has several factors (use ``betas``).
    resid : pandas.Series
        Residuals ``eps = r_e - alpha - b' f`` on the dates used.
    var_e : float
        Idiosyncratic variance ``resid.var(ddof=1)`` (sample variance, ``n - 1``
        in the denominator, the same convention as pandas' ``.var()``).
    r2 : float
        R-squared, the factors' share of the variance of ``r_e`` (NaN if
        ``r_e`` is constant).
    tstat_alpha : float
        t-statistic ``alpha / se_alpha``.
    tstat_beta : float or None
        One factor: ``beta / se_beta``; ``None`` with several factors (use ``tstats``).
    se_alpha : float
        Standard error of alpha from statsmodels (classical OLS unless another
        ``cov_type`` was asked for).
    se_beta : float or None
        One factor: standard error of beta; ``None`` with several factors (use ``se``).
    nobs : int
        Number of dates used (after alignment and dropping missing values).
    fitted : pandas.Series
        Fitted values ``alpha + b' f``.
    var_f : float or None
        One factor: its sample variance, ``f.var(ddof=1)``, on the dates used.
        ``None`` with several factors (use ``factor_cov``).
    mu_f : float or pandas.Series
        Mean of the factor (the factor premium per period) on the dates used;
        with several factors a Series of means by factor name.
    result : statsmodels.regression.linear_model.RegressionResultsWrapper
        The full statsmodels result, for anything not listed here.
    name : str or None
        Name of the asset (``r_e.name``) if it had one.
    betas : pandas.Series
        The factor betas by factor name (one entry for one factor, equal to ``beta``).
    tstats : pandas.Series
        t-statistic of every coefficient, indexed ``"const"`` then the factor names.
    se : pandas.Series
        Standard error of every coefficient, indexed like ``tstats``.
    factor_cov : pandas.DataFrame
        ``K x K`` sample covariance matrix of the factors (``ddof=1``) on the
        dates used, labelled by factor name (``[[var_f]]`` for one factor).

    Notes
    -----
    With the ``ddof=1`` convention for every variance the in-sample
    decomposition is exact: ``r_e.var() == b' factor_cov b + var_e``,
    because OLS residuals have mean zero and zero sample covariance with
    every factor. statsmodels' own residual variance ``result.scale`` divides
    by ``n - K - 1`` (the degrees of freedom) and is what the standard errors
    use; ``var_e`` is the descriptive ``n - 1`` version.
    """

    alpha: float
    beta: float | None
    resid: pd.Series
    var_e: float
    r2: float
    tstat_alpha: float
    tstat_beta: float | None
    se_alpha: float
    se_beta: float | None
    nobs: int
    fitted: pd.Series
    var_f: float | None
    mu_f: object
    result: object = field(repr=False)
    name: str | None = None
    betas: pd.Series = field(default=None, repr=False)
    tstats: pd.Series = field(default=None, repr=False)
    se: pd.Series = field(default=None, repr=False)
    factor_cov: pd.DataFrame = field(default=None, repr=False)

    @property
    def factors(self) -> list:
        """The factor names, in the order of ``betas``."""
        return list(self.betas.index)

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name is not None else ""
        if self.beta is not None:
            slopes = f"beta={self.beta:.4f}"
        else:
            slopes = "betas={" + ", ".join(f"{k!r}: {v:.4f}" for k, v in self.betas.items()) + "}"
        return (
            f"FactorFit({label}alpha={self.alpha:.6g}, {slopes}, "
            f"var_e={self.var_e:.6g}, r2={self.r2:.4f}, nobs={self.nobs})"
        )

    def summary(self, periods_per_year: float | None = None) -> str:
        """A short plain-text table of the fit.

        Parameters
        ----------
        periods_per_year : float, optional
            If given (252 for daily data, 12 for monthly), annualized alpha,
            residual volatility, factor premia and appraisal ratio are added.

        Returns
        -------
        str
            Estimates per period of the data (and per year if asked). For
            statsmodels' full table use ``fit.result.summary()``.

        Examples
        --------
        >>> import factordata
        >>> from solutions import fit_factor_model
        >>> daily = factordata.excess_returns("daily")
        >>> print(fit_factor_model(daily["KO"], daily["MKT"]).summary(252))  # doctest: +ELLIPSIS
        Single-factor model r_e = alpha + beta f + eps  [KO]
        ...
        beta          0.643463 ...
        ...
        """
        one = self.beta is not None
        title = ("Single-factor model r_e = alpha + beta f + eps" if one
                 else f"{len(self.betas)}-factor model r_e = alpha + b' f + eps")
        if self.name is not None:
            title += f"  [{self.name}]"
        rows = [
            title,
            "-" * len(title),
            f"{'':8}{'estimate':>14}{'std err':>14}{'t-stat':>10}",
            f"{'alpha':8}{self.alpha:>14.6g}{self.se_alpha:>14.6g}{self.tstat_alpha:>10.2f}",
        ]
        if one:
            rows += [
                f"{'beta':8}{self.beta:>14.6g}{self.se_beta:>14.6g}{self.tstat_beta:>10.2f}",
                "",
                f"var_e (resid variance, ddof=1)  {self.var_e:.6g}",
                f"var_f (factor variance, ddof=1) {self.var_f:.6g}",
                f"mu_f  (factor mean)             {self.mu_f:.6g}",
            ]
        else:
            rows += [f"{('b ' + str(k))[:8]:8}{b:>14.6g}{self.se[k]:>14.6g}{self.tstats[k]:>10.2f}"
                     for k, b in self.betas.items()]
            rows += ["", f"var_e (resid variance, ddof=1)  {self.var_e:.6g}"]
            rows += [f"mean of {k:<24}{m:.6g}" for k, m in self.mu_f.items()]
        rows += [
            f"R-squared                       {self.r2:.4f}",
            f"observations                    {self.nobs}",
            "Units: decimals per period of the data; only beta is frequency-free." if one
            else "Units: decimals per period of the data; only the betas are frequency-free.",
        ]
        if periods_per_year is not None:
            h = _v.periods_per_year(periods_per_year)
            vol_e = float(np.sqrt(self.var_e))
            rows += [
                "",
                f"Annualized with periods_per_year = {h:g}:",
                f"alpha * h                       {self.alpha * h:.6g}",
                f"resid vol * sqrt(h)             {vol_e * np.sqrt(h):.6g}",
            ]
            if one:
                rows.append(f"mu_f * h                        {self.mu_f * h:.6g}")
            else:
                rows += [f"mean of {k:<20}* h {m * h:.6g}" for k, m in self.mu_f.items()]
            rows += [
                f"appraisal ratio * sqrt(h)       "
                + (f"{self.alpha / vol_e * np.sqrt(h):.4f}" if vol_e > 0 else "undefined"),
                "  (appraisal ratio = alpha / resid vol)",
            ]
        return "\n".join(rows)


def _is_multi(f) -> bool:
    """Several factors: a DataFrame with more than one column, or a 2-D array."""
    if isinstance(f, pd.DataFrame):
        return f.shape[1] != 1
    return isinstance(f, np.ndarray) and f.ndim == 2 and f.shape[1] != 1


def fit_factor_model(r_e, f, *, cov_type: str = "nonrobust", cov_kwds: dict | None = None) -> FactorFit:
    """Estimate alpha and the betas by OLS of excess returns on one or several factors.

    Parameters
    ----------
    r_e : pandas.Series or 1-D array
        Excess returns of the asset, decimals per period.
    f : pandas.Series, 1-D array, pandas.DataFrame or 2-D array
        Factor returns, same frequency: one factor as a Series (the market's
        excess return), or ``K`` factors as the columns of a DataFrame (e.g.
        ``Mkt-RF``, ``SMB``, ``HML``; names must be distinct strings other
        than ``"const"``; a 2-D array's columns are named ``f1, f2, ...``).
        Series and DataFrames are aligned on their dates (inner join of the
        indexes); arrays must have the same length as ``r_e``. Rows where
        anything is NaN are dropped; at least ``K + 2`` must remain.
    cov_type : str, default "nonrobust"
        Passed to statsmodels' ``OLS.fit``: ``"nonrobust"`` gives the
        classical standard errors, ``"HC1"`` or ``"HAC"`` robust ones. Only
        the standard errors and t-statistics depend on it.
    cov_kwds : dict, optional
        Passed to ``OLS.fit`` with ``cov_type`` (e.g. ``{"maxlags": 5}`` for HAC).

    Returns
    -------
    FactorFit
        Named estimates (``alpha``, ``betas``, ``resid``, ``var_e``,
        ``tstats``, ``factor_cov``, ...), see :class:`FactorFit`. With one
        factor ``beta``, ``tstat_beta``, ``se_beta`` and ``var_f`` are floats,
        exactly as before; with several they are ``None``.

    Raises
    ------
    ValueError
        If the inputs share no dates, have different lengths (arrays), leave
        too few complete rows, a factor does not vary, or the factors are
        collinear.

    Notes
    -----
    One factor: ``beta = Cov(r_e, f) / Var(f)`` and ``alpha = mean(r_e) - beta mean(f)``.
    ``K`` factors: ``b = Sigma_f^{-1} Cov(f, r_e)`` with ``Sigma_f`` the
    factors' covariance matrix, and ``alpha = mean(r_e) - b' mean(f)``.
    The residuals have mean zero and are uncorrelated with every factor in
    sample. ``alpha``, ``var_e``, ``factor_cov`` and ``mu_f`` are per period:
    annualize means and variances with ``* periods_per_year`` (252 daily,
    12 monthly).

    Examples
    --------
    >>> import factordata
    >>> from solutions import fit_factor_model
    >>> daily = factordata.excess_returns("daily")
    >>> fit = fit_factor_model(daily["WMT"], daily["MKT"])
    >>> round(fit.beta, 2)
    0.79
    >>> bool(abs(fit.resid.corr(daily["MKT"])) < 1e-10)
    True

    Three Fama-French factors on monthly data:

    >>> monthly = factordata.excess_returns("monthly")
    >>> ff3 = factordata.fama_french()[["Mkt-RF", "SMB", "HML"]]
    >>> fit3 = fit_factor_model(monthly["WMT"], ff3)
    >>> fit3.betas.round(2).to_dict()
    {'Mkt-RF': 0.62, 'SMB': -0.52, 'HML': -0.23}
    >>> list(fit3.tstats.index), fit3.nobs
    (['const', 'Mkt-RF', 'SMB', 'HML'], 346)
    """
    if not isinstance(cov_type, str):
        raise ValueError(f"cov_type must be a string such as 'nonrobust' or 'HAC', got {cov_type!r}")
    if _is_multi(f):
        y, x = _v.aligned_frame(r_e, f, "r_e", "f")
        for col in x.columns:
            if x[col].max() == x[col].min():
                raise ValueError(f"f must vary: its column {col!r} is constant on the dates shared with r_e")
        names = list(x.columns)
        factor_data = x
    else:
        y, xs = _v.aligned_pair(r_e, f, "r_e", "f")
        if xs.max() == xs.min():
            raise ValueError("f must vary: it is constant on the dates shared with r_e")
        factor_name = xs.name if isinstance(xs.name, str) and xs.name not in ("const", "") else "f"
        names = [factor_name]
        factor_data = pd.DataFrame({factor_name: xs.to_numpy()}, index=xs.index)
    asset_name = y.name if isinstance(y.name, str) else None
    # the design matrix sm.add_constant(f) would build, with the factors' names kept
    exog = pd.DataFrame({"const": np.ones(len(y)), **{n: factor_data[n].to_numpy() for n in names}},
                        index=y.index)
    if len(names) > 1 and np.linalg.matrix_rank(exog.to_numpy()) < exog.shape[1]:
        raise ValueError(f"f's columns {names} are collinear (with each other or the constant): "
                         "the betas are not identified")
    # Imported here, not at the top: statsmodels (with the parts of scipy it loads)
    # takes about two seconds to import, and only the regressions need it. Code
    # that uses the rest of the module (chapter 5's covariance algebra, say)
    # then does not pay for it. statsmodels.api would import far more again.
    from statsmodels.regression.linear_model import OLS

    model = OLS(y.rename(asset_name or "r_e"), exog)
    # A constant r_e (zero total variance) is legal but leaves R^2 undefined: NaN, not a warning.
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            result = model.fit(cov_type=cov_type, cov_kwds=cov_kwds)
        except (KeyError, TypeError, ValueError) as exc:  # statsmodels' own message, one line, named
            raise ValueError(
                f"cov_type={cov_type!r} with cov_kwds={cov_kwds!r} was rejected by statsmodels "
                f"({type(exc).__name__}: {exc}); e.g. cov_type='HAC' needs cov_kwds={{'maxlags': 5}}"
            ) from None
        params, bse, tvalues, r2 = result.params, result.bse, result.tvalues, float(result.rsquared)
    resid = result.resid.rename("resid")
    factor_cov = factor_data.cov(ddof=1)
    one = len(names) == 1
    return FactorFit(
        alpha=float(params["const"]),
        beta=float(params[names[0]]) if one else None,
        resid=resid,
        var_e=float(resid.var(ddof=1)),
        r2=r2,
        tstat_alpha=float(tvalues["const"]),
        tstat_beta=float(tvalues[names[0]]) if one else None,
        se_alpha=float(bse["const"]),
        se_beta=float(bse[names[0]]) if one else None,
        nobs=int(result.nobs),
        fitted=result.fittedvalues.rename("fitted"),
        var_f=float(factor_data[names[0]].var(ddof=1)) if one else None,
        mu_f=float(factor_data[names[0]].mean()) if one else factor_data.mean().rename("mu_f"),
        result=result,
        name=asset_name,
        betas=params[names].astype(float).rename("beta"),
        tstats=tvalues.astype(float).rename("tstat"),
        se=bse.astype(float).rename("se"),
        factor_cov=factor_cov,
    )


def _exposures(f, beta, *, f_name: str = "f", beta_name: str = "beta"):
    """One factor: ``(Series, float)``. Several: ``(DataFrame, ndarray of betas)``, matched by label."""
    several = isinstance(beta, (list, tuple, np.ndarray)) and np.ndim(beta) == 1 and len(beta) > 1
    if not (_is_multi(f) or isinstance(beta, pd.Series) or several):
        return None
    if not isinstance(f, (pd.DataFrame, np.ndarray)) or np.ndim(f) != 2:
        raise ValueError(f"{beta_name} has several entries, so {f_name} must be a DataFrame (one column per factor)")
    frame = f if isinstance(f, pd.DataFrame) else pd.DataFrame(
        f, columns=[f"f{i + 1}" for i in range(np.shape(f)[1])])
    if isinstance(beta, pd.Series):
        b = _v.array_like(beta, beta_name)
        if set(b.index) != set(frame.columns) or len(b) != frame.shape[1]:
            raise ValueError(f"{beta_name} must be labelled by {f_name}'s columns {list(frame.columns)}, "
                             f"got {list(b.index)}")
        return frame, b.loc[list(frame.columns)].to_numpy()
    if np.ndim(beta) != 1 or len(beta) != frame.shape[1]:
        raise ValueError(f"{beta_name} must hold one beta per column of {f_name} ({frame.shape[1]})")
    return frame, np.asarray(_v.array_like(list(beta), beta_name), dtype=float)


def tracking_returns(f, beta) -> pd.Series:
    """Returns of the tracking portfolio: ``beta`` units of the factor, or ``b' f`` for several.

    Parameters
    ----------
    f : pandas.Series, 1-D array, pandas.DataFrame or 2-D array
        Factor returns, decimals per period: one factor, or one column per factor.
    beta : float, or pandas.Series or 1-D array of betas
        The asset's beta; with several factors its betas (a Series matched to
        the columns of ``f`` by label, an array by position).

    Returns
    -------
    pandas.Series
        ``beta * f`` (``f @ b`` with several factors) named ``"tracking"``,
        on the index of ``f`` (a ``RangeIndex`` for arrays). NaNs in ``f`` stay NaN.

    Notes
    -----
    The tracking portfolio holds ``beta`` dollars of the factor portfolio per
    dollar of the asset (``b_k`` dollars of each factor portfolio ``k``); it
    earns the factor-driven part of the asset's excess return. Holding minus
    it is the hedging portfolio.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import tracking_returns
    >>> tracking_returns(pd.Series([0.01, -0.02]), 1.5).tolist()
    [0.015, -0.03]
    >>> f = pd.DataFrame({"Mkt-RF": [0.01, -0.02], "SMB": [0.002, 0.001]})
    >>> tracking_returns(f, pd.Series({"Mkt-RF": 1.0, "SMB": -0.5})).round(6).tolist()
    [0.009, -0.0205]
    """
    multi = _exposures(f, beta)
    if multi is not None:
        frame, b = multi
        values = _v.array_like(frame, "f") if frame.notna().all().all() else frame.astype(float)
        return pd.Series(values.to_numpy() @ b, index=frame.index, name="tracking")
    beta = _v.scalar(beta, "beta")
    return (beta * _v.series(f, "f")).rename("tracking")


def hedged_returns(r_e, f, beta) -> pd.Series:
    """Returns of the hedged ("portable alpha") portfolio ``r_e - beta f`` (``r_e - b' f``).

    Parameters
    ----------
    r_e : pandas.Series or 1-D array
        Excess returns of the asset, decimals per period.
    f : pandas.Series, 1-D array, pandas.DataFrame or 2-D array
        Factor returns, same frequency, aligned as in :func:`fit_factor_model`
        (inner join on dates, rows with a NaN dropped); one column per factor
        for several factors.
    beta : float, or pandas.Series or 1-D array of betas
        Hedge ratio(s), normally the OLS betas of ``r_e`` on ``f``; a Series
        is matched to the columns of ``f`` by label.

    Returns
    -------
    pandas.Series
        ``r_e - beta * f`` (``r_e - f @ b``) named ``"hedged"``.

    Notes
    -----
    With the in-sample OLS betas the hedged return has mean ``alpha``,
    variance ``var_e`` and zero beta on every factor: it is ``alpha + eps``.
    With any other betas (say estimated on an earlier window) some factor
    exposure ``b_true - b`` is left.

    Examples
    --------
    >>> import factordata
    >>> from solutions import fit_factor_model, hedged_returns
    >>> daily = factordata.excess_returns("daily")
    >>> fit = fit_factor_model(daily["JPM"], daily["MKT"])
    >>> hedged = hedged_returns(daily["JPM"], daily["MKT"], fit.beta)
    >>> bool(abs(hedged.mean() - fit.alpha) < 1e-12)
    True
    """
    multi = _exposures(f, beta)
    if multi is not None:
        frame, b = multi
        y, x = _v.aligned_frame(r_e, frame, "r_e", "f", min_obs=1)
        return (y - x.to_numpy() @ b).rename("hedged")
    beta = _v.scalar(beta, "beta")
    y, x = _v.aligned_pair(r_e, f, "r_e", "f", min_obs=1)
    return (y - beta * x).rename("hedged")


def hedge_positions(size, betas) -> pd.Series:
    """Dollar positions in each factor portfolio that hedge ``size`` dollars of the asset.

    Parameters
    ----------
    size : float
        Dollars held in the asset (negative for a short).
    betas : float or pandas.Series
        The asset's beta, or its betas by factor name.

    Returns
    -------
    pandas.Series
        ``-size * b_k`` dollars in factor portfolio ``k`` (negative is a
        short), indexed by factor (``"f"`` for a single float beta), named
        ``"hedge"``.

    Notes
    -----
    Each factor is an excess return: the market leg ``Mkt-RF`` is a position
    in the market financed at the risk-free rate, and ``SMB`` and ``HML`` are
    long-short portfolios that need no capital. So the hedged trade's excess
    PnL per period is ``size * (r_e - b' f)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import hedge_positions
    >>> hedge_positions(1_000_000, pd.Series({"Mkt-RF": 1.1, "SMB": -0.4, "HML": 0.3})).to_dict()
    {'Mkt-RF': -1100000.0, 'SMB': 400000.0, 'HML': -300000.0}
    """
    size = _v.scalar(size, "size")
    if isinstance(betas, pd.Series):
        b = _v.array_like(betas, "betas")
    else:
        b = pd.Series([_v.scalar(betas, "betas")], index=["f"])
    return (-size * b).rename("hedge")
