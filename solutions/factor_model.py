"""The single-factor model: estimation, tracking and hedged returns.

The model for an asset's excess return ``r_e`` on a factor return ``f``
(here the market's excess return) is

    r_e[t] = alpha + beta * f[t] + eps[t],

estimated by ordinary least squares of ``r_e`` on a constant and ``f``.
All quantities carry the frequency of the data (per day for daily returns,
per month for monthly); only ``beta`` is the same at every frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS  # not statsmodels.api, which imports far more

from . import _validation as _v

__all__ = ["FactorFit", "fit_factor_model", "hedged_returns", "tracking_returns"]


@dataclass(frozen=True, eq=False, repr=False)
class FactorFit:
    """Result of :func:`fit_factor_model`: the OLS fit of ``r_e = alpha + beta f + eps``.

    Every number is per period of the data (per day for daily returns, per
    month for monthly), in decimals.

    Attributes
    ----------
    alpha : float
        Intercept: the mean excess return not explained by the factor,
        ``mean(r_e) - beta * mean(f)``.
    beta : float
        Slope: exposure of the asset to the factor, ``Cov(r_e, f) / Var(f)``.
    resid : pandas.Series
        Residuals ``eps = r_e - alpha - beta f`` on the dates used.
    var_e : float
        Idiosyncratic variance ``resid.var(ddof=1)`` (sample variance, ``n - 1``
        in the denominator, the same convention as pandas' ``.var()``).
    r2 : float
        R-squared, the factor's share of the variance of ``r_e`` (NaN if
        ``r_e`` is constant).
    tstat_alpha, tstat_beta : float
        t-statistics ``alpha / se_alpha`` and ``beta / se_beta``.
    se_alpha, se_beta : float
        Standard errors from statsmodels (classical OLS unless another
        ``cov_type`` was asked for).
    nobs : int
        Number of dates used (after alignment and dropping missing values).
    fitted : pandas.Series
        Fitted values ``alpha + beta f``.
    var_f : float
        Sample variance of the factor, ``f.var(ddof=1)``, on the dates used.
    mu_f : float
        Mean of the factor (the factor premium per period) on the dates used.
    result : statsmodels.regression.linear_model.RegressionResultsWrapper
        The full statsmodels result, for anything not listed here.
    name : str or None
        Name of the asset (``r_e.name``) if it had one.

    Notes
    -----
    With the ``ddof=1`` convention for both variances the in-sample
    decomposition is exact: ``r_e.var() == beta**2 * var_f + var_e``,
    because OLS residuals have mean zero and zero sample covariance with
    ``f``. statsmodels' own residual variance ``result.scale`` divides by
    ``n - 2`` (the degrees of freedom) and is what the standard errors use;
    ``var_e`` is the descriptive ``n - 1`` version.
    """

    alpha: float
    beta: float
    resid: pd.Series
    var_e: float
    r2: float
    tstat_alpha: float
    tstat_beta: float
    se_alpha: float
    se_beta: float
    nobs: int
    fitted: pd.Series
    var_f: float
    mu_f: float
    result: object = field(repr=False)
    name: str | None = None

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name is not None else ""
        return (
            f"FactorFit({label}alpha={self.alpha:.6g}, beta={self.beta:.4f}, "
            f"var_e={self.var_e:.6g}, r2={self.r2:.4f}, nobs={self.nobs})"
        )

    def summary(self, periods_per_year: float | None = None) -> str:
        """A short plain-text table of the fit.

        Parameters
        ----------
        periods_per_year : float, optional
            If given (252 for daily data, 12 for monthly), annualized alpha,
            residual volatility, factor premium and appraisal ratio are added.

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
        title = "Single-factor model r_e = alpha + beta f + eps"
        if self.name is not None:
            title += f"  [{self.name}]"
        rows = [
            title,
            "-" * len(title),
            f"{'':8}{'estimate':>14}{'std err':>14}{'t-stat':>10}",
            f"{'alpha':8}{self.alpha:>14.6g}{self.se_alpha:>14.6g}{self.tstat_alpha:>10.2f}",
            f"{'beta':8}{self.beta:>14.6g}{self.se_beta:>14.6g}{self.tstat_beta:>10.2f}",
            "",
            f"var_e (resid variance, ddof=1)  {self.var_e:.6g}",
            f"var_f (factor variance, ddof=1) {self.var_f:.6g}",
            f"mu_f  (factor mean)             {self.mu_f:.6g}",
            f"R-squared                       {self.r2:.4f}",
            f"observations                    {self.nobs}",
            "Units: decimals per period of the data; only beta is frequency-free.",
        ]
        if periods_per_year is not None:
            h = _v.periods_per_year(periods_per_year)
            vol_e = float(np.sqrt(self.var_e))
            rows += [
                "",
                f"Annualized with periods_per_year = {h:g}:",
                f"alpha * h                       {self.alpha * h:.6g}",
                f"resid vol * sqrt(h)             {vol_e * np.sqrt(h):.6g}",
                f"mu_f * h                        {self.mu_f * h:.6g}",
                f"appraisal ratio * sqrt(h)       "
                + (f"{self.alpha / vol_e * np.sqrt(h):.4f}" if vol_e > 0 else "undefined"),
                "  (appraisal ratio = alpha / resid vol)",
            ]
        return "\n".join(rows)


def fit_factor_model(r_e, f, *, cov_type: str = "nonrobust", cov_kwds: dict | None = None) -> FactorFit:
    """Estimate alpha and beta by OLS of excess returns on a factor.

    Parameters
    ----------
    r_e : pandas.Series or 1-D array
        Excess returns of the asset, decimals per period.
    f : pandas.Series or 1-D array
        Factor returns (the market's excess return), same frequency.
        Two Series are aligned on their dates (inner join of the indexes);
        arrays must have the same length as ``r_e``. Rows where either is
        NaN are dropped; at least 3 must remain.
    cov_type : str, default "nonrobust"
        Passed to statsmodels' ``OLS.fit``: ``"nonrobust"`` gives the
        classical standard errors, ``"HC1"`` or ``"HAC"`` robust ones. Only
        the standard errors and t-statistics depend on it.
    cov_kwds : dict, optional
        Passed to ``OLS.fit`` with ``cov_type`` (e.g. ``{"maxlags": 5}`` for HAC).

    Returns
    -------
    FactorFit
        Named estimates (``alpha``, ``beta``, ``resid``, ``var_e``, ...), see
        :class:`FactorFit`.

    Raises
    ------
    ValueError
        If the inputs share no dates, have different lengths (arrays), leave
        fewer than 3 complete rows, or ``f`` does not vary.

    Notes
    -----
    ``beta = Cov(r_e, f) / Var(f)`` and ``alpha = mean(r_e) - beta mean(f)``;
    the residuals have mean zero and are uncorrelated with ``f`` in sample.
    ``alpha``, ``var_e``, ``var_f`` and ``mu_f`` are per period: annualize
    means and variances with ``* periods_per_year`` (252 daily, 12 monthly).

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
    """
    y, x = _v.aligned_pair(r_e, f, "r_e", "f")
    if not isinstance(cov_type, str):
        raise ValueError(f"cov_type must be a string such as 'nonrobust' or 'HAC', got {cov_type!r}")
    if x.max() == x.min():
        raise ValueError("f must vary: it is constant on the dates shared with r_e")
    var_f = float(x.var(ddof=1))
    factor_name = x.name if isinstance(x.name, str) and x.name not in ("const", "") else "f"
    asset_name = y.name if isinstance(y.name, str) else None
    # the design matrix sm.add_constant(f) would build, with the factor's name kept
    exog = pd.DataFrame({"const": np.ones(len(x)), factor_name: x.to_numpy()}, index=x.index)
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
    return FactorFit(
        alpha=float(params["const"]),
        beta=float(params[factor_name]),
        resid=resid,
        var_e=float(resid.var(ddof=1)),
        r2=r2,
        tstat_alpha=float(tvalues["const"]),
        tstat_beta=float(tvalues[factor_name]),
        se_alpha=float(bse["const"]),
        se_beta=float(bse[factor_name]),
        nobs=int(result.nobs),
        fitted=result.fittedvalues.rename("fitted"),
        var_f=var_f,
        mu_f=float(x.mean()),
        result=result,
        name=asset_name,
    )


def tracking_returns(f, beta) -> pd.Series:
    """Returns of the tracking portfolio: ``beta`` units of the factor.

    Parameters
    ----------
    f : pandas.Series or 1-D array
        Factor returns, decimals per period.
    beta : float
        The asset's beta.

    Returns
    -------
    pandas.Series
        ``beta * f`` named ``"tracking"``, on the index of ``f`` (a
        ``RangeIndex`` for arrays). NaNs in ``f`` stay NaN.

    Notes
    -----
    The tracking portfolio holds ``beta`` dollars of the factor portfolio per
    dollar of the asset; it earns the factor-driven part of the asset's
    excess return. Holding minus it is the hedging portfolio.

    Examples
    --------
    >>> import pandas as pd
    >>> from solutions import tracking_returns
    >>> tracking_returns(pd.Series([0.01, -0.02]), 1.5).tolist()
    [0.015, -0.03]
    """
    beta = _v.scalar(beta, "beta")
    return (beta * _v.series(f, "f")).rename("tracking")


def hedged_returns(r_e, f, beta) -> pd.Series:
    """Returns of the hedged ("portable alpha") portfolio ``r_e - beta f``.

    Parameters
    ----------
    r_e : pandas.Series or 1-D array
        Excess returns of the asset, decimals per period.
    f : pandas.Series or 1-D array
        Factor returns, same frequency, aligned as in :func:`fit_factor_model`
        (inner join on dates, rows with a NaN dropped).
    beta : float
        Hedge ratio, normally the OLS beta of ``r_e`` on ``f``.

    Returns
    -------
    pandas.Series
        ``r_e - beta * f`` named ``"hedged"``.

    Notes
    -----
    With the in-sample OLS beta the hedged return has mean ``alpha``,
    variance ``var_e`` and zero beta on ``f``: it is ``alpha + eps``. With
    any other beta (say one estimated on an earlier window) some factor
    exposure ``beta_true - beta`` is left.

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
    beta = _v.scalar(beta, "beta")
    y, x = _v.aligned_pair(r_e, f, "r_e", "f", min_obs=1)
    return (y - beta * x).rename("hedged")
