"""Reference solutions for *Introduction to Factor Models*.

The single-factor model ``r_e = alpha + beta f + eps`` of an asset's excess
return ``r_e`` on a factor return ``f`` (the market's excess return), and
what the course builds on it: tracking and hedged portfolios, annualizing,
volatility risk budgets, variance decomposition and risk-share hedges,
factor-implied covariance matrices, and the five-ticker assignment. The same
functions take several factors (``r_e = alpha + b' f + eps``, e.g. the
Fama-French market, size and value factors): a DataFrame of factor returns,
a Series of betas, a factor covariance matrix. The book uses these
functions, and the autograder grades students against them.

Conventions
-----------
* Returns are simple returns in decimals per period (0.01 is one percent).
* Every estimate carries the data's frequency; annualize explicitly with
  ``periods_per_year`` (252 daily, 12 monthly). Beta does not scale.
* Variances use ``ddof=1`` (pandas' ``.var()``), which makes
  ``Var(r_e) = beta**2 Var(f) + Var(eps)`` hold exactly in sample.
* Bad input raises ``ValueError`` naming the argument; inputs are never
  modified.

Contents
--------
* ``factor_model``: :class:`FactorFit`, :func:`fit_factor_model`,
  :func:`tracking_returns`, :func:`hedged_returns`, :func:`hedge_positions`
* ``annualize``: :func:`annualize_mean`, :func:`annualize_variance`,
  :func:`annualize_vol`, :func:`sharpe_ratio`
* ``risk_budget``: :func:`position_size`, :func:`expected_pnl`, :func:`alpha_pnl`
* ``variance``: :class:`VarianceDecomposition`, :func:`variance_decomposition`,
  :func:`factor_contributions`, :func:`hedge_for_risk_share`
* ``covariance``: :func:`implied_covariance`, :func:`parameter_counts`,
  :func:`sample_covariance`, :func:`residual_correlation`,
  :class:`PCAFactors`, :func:`pca_factors`, :func:`ledoit_wolf_covariance`,
  :func:`min_variance_weights`
* ``practice``: :class:`FiveTickerReport`, :func:`five_ticker_report`
* ``mistakes``: common mistakes reproduced on purpose, and ``diagnose``,
  for the autograder's hints

Examples
--------
>>> import factordata, solutions
>>> daily = factordata.excess_returns("daily")
>>> fit = solutions.fit_factor_model(daily["KO"], daily["MKT"])
>>> round(fit.beta, 2)
0.64
"""

from . import mistakes
from .annualize import annualize_mean, annualize_variance, annualize_vol, sharpe_ratio
from .covariance import (PCAFactors, implied_covariance, ledoit_wolf_covariance, min_variance_weights,
                         parameter_counts, pca_factors, residual_correlation, sample_covariance)
from .factor_model import FactorFit, fit_factor_model, hedge_positions, hedged_returns, tracking_returns
from .practice import FiveTickerReport, five_ticker_report
from .risk_budget import alpha_pnl, expected_pnl, position_size
from .variance import VarianceDecomposition, factor_contributions, hedge_for_risk_share, variance_decomposition

__all__ = [
    "FactorFit",
    "FiveTickerReport",
    "PCAFactors",
    "VarianceDecomposition",
    "alpha_pnl",
    "annualize_mean",
    "annualize_variance",
    "annualize_vol",
    "expected_pnl",
    "factor_contributions",
    "fit_factor_model",
    "five_ticker_report",
    "hedge_for_risk_share",
    "hedge_positions",
    "hedged_returns",
    "implied_covariance",
    "ledoit_wolf_covariance",
    "min_variance_weights",
    "mistakes",
    "parameter_counts",
    "pca_factors",
    "position_size",
    "residual_correlation",
    "sample_covariance",
    "sharpe_ratio",
    "tracking_returns",
    "variance_decomposition",
]
