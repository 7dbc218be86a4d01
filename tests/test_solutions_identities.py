"""The exact in-sample identities of chapter 2, on the real data, for every ticker.

OLS with an intercept makes the residual mean zero and uncorrelated with the
factor, so with the in-sample beta (and the ddof=1 convention everywhere):

* mean(r_e - beta f) == alpha
* Var(r_e - beta f) == var_e, and the hedged return has zero beta on f
* Var(r_e) == beta**2 var_f + var_e, with a factor share in [0, 1] equal to R^2

These hold to rounding error (~1e-16 relative), so the tolerances are tight.
"""

import numpy as np
import pytest

import factordata
from solutions import (
    fit_factor_model,
    hedge_for_risk_share,
    hedged_returns,
    sharpe_ratio,
    tracking_returns,
    variance_decomposition,
)

CASES = [(freq, t) for freq in factordata.FREQUENCIES for t in factordata.tickers()]


@pytest.fixture(scope="module")
def data():
    return {freq: factordata.excess_returns(freq) for freq in factordata.FREQUENCIES}


@pytest.mark.parametrize("freq, ticker", CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_identities_hold_exactly(data, freq, ticker):
    frame = data[freq]
    r_e, f = frame[ticker], frame["MKT"]
    fit = fit_factor_model(r_e, f)
    hedged = hedged_returns(r_e, f, fit.beta)
    var_r = r_e.var()  # pandas, ddof=1

    assert fit.nobs == len(frame)
    # mean of the hedged portfolio is alpha
    assert abs(hedged.mean() - fit.alpha) < 1e-12 * max(1.0, abs(fit.alpha)) + 1e-15
    # its variance is the residual variance
    assert hedged.var() == pytest.approx(fit.var_e, rel=1e-12)
    # it has no beta left, and no correlation with the factor
    assert abs(fit_factor_model(hedged, f).beta) < 1e-12
    assert abs(np.corrcoef(hedged, f)[0, 1]) < 1e-10
    assert abs(fit.resid.corr(f)) < 1e-10
    assert abs(fit.resid.mean()) < 1e-15
    # asset = tracking + hedged, date by date
    np.testing.assert_allclose((tracking_returns(f, fit.beta) + hedged).to_numpy(), r_e.to_numpy(), atol=1e-15)
    # variance decomposition adds up, and the share is the R^2
    d = variance_decomposition(fit.beta, fit.var_f, fit.var_e)
    assert d.total == pytest.approx(var_r, rel=1e-12)
    assert d.factor == pytest.approx(fit.beta**2 * f.var(), rel=1e-12)
    assert 0.0 <= d.factor_share <= 1.0
    assert d.factor_share == pytest.approx(fit.r2, rel=1e-10)
    # hedged Sharpe ratio = appraisal ratio alpha / sigma_eps (annualized)
    h = factordata.periods_per_year(freq)
    assert sharpe_ratio(hedged, h) == pytest.approx(fit.alpha / np.sqrt(fit.var_e) * np.sqrt(h), rel=1e-10)


@pytest.mark.parametrize("freq", list(factordata.FREQUENCIES))
def test_risk_share_hedge_hits_the_limit_on_real_data(data, freq):
    frame = data[freq]
    for ticker in factordata.tickers():
        fit = fit_factor_model(frame[ticker], frame["MKT"])
        for vbar in (0.0, 0.1, 0.25):
            h = hedge_for_risk_share(vbar, fit.beta, fit.var_f, fit.var_e)
            hedged = hedged_returns(frame[ticker], frame["MKT"], -h)  # r_e + h f
            share = variance_decomposition(fit_factor_model(hedged, frame["MKT"]).beta, fit.var_f, fit.var_e)
            if fit.r2 <= vbar:
                assert h == 0.0
            else:
                assert share.factor_share == pytest.approx(vbar, abs=1e-10)


def test_daily_betas_as_documented(data):
    """The brief quotes rough full-sample daily betas; the fits reproduce them."""
    quoted = {"WMT": 0.79, "KO": 0.64, "PG": 0.62, "JNJ": 0.63, "PEP": 0.61, "JPM": 1.52, "BAC": 1.54, "AMD": 1.53, "GE": 1.17}
    frame = data["daily"]
    for ticker, beta in quoted.items():
        assert fit_factor_model(frame[ticker], frame["MKT"]).beta == pytest.approx(beta, abs=0.01), ticker


def test_beta_needs_no_annualizing_but_variances_do(data):
    """Daily and monthly betas are of the same size; variances differ by an order of magnitude.

    (The windows differ and returns are not exactly independent, so monthly
    variances are not exactly 21 times daily ones.)
    """
    for ticker in ["WMT", "JPM", "KO", "XOM"]:
        d = fit_factor_model(data["daily"][ticker], data["daily"]["MKT"])
        m = fit_factor_model(data["monthly"][ticker], data["monthly"]["MKT"])
        assert 0.5 < m.beta / d.beta < 1.6, ticker
        assert 10 < m.var_f / d.var_f < 30
