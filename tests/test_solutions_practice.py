"""five_ticker_report: the reference answers of the five-ticker assignment."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import factordata
from solutions import FiveTickerReport, fit_factor_model, five_ticker_report

PICKS = ["WMT", "JPM", "KO", "XOM", "MSFT"]


@pytest.fixture(scope="module", params=["daily", "monthly"])
def report(request):
    return five_ticker_report(PICKS, freq=request.param)


def test_report_fields(report):
    assert isinstance(report, FiveTickerReport)
    assert report.tickers == tuple(PICKS)
    assert report.periods_per_year == factordata.periods_per_year(report.freq)
    assert report.parameter_counts == {"factor_model": 11, "unrestricted": 15}
    for name in ["sample_cov", "implied_cov", "difference", "residual_corr"]:
        frame = getattr(report, name)
        assert isinstance(frame, pd.DataFrame) and frame.shape == (5, 5), name
        assert list(frame.index) == list(frame.columns) == PICKS, name
    assert list(report.fits.columns) == ["alpha", "beta", "var_e", "r2", "tstat_alpha", "tstat_beta"]
    assert list(report.fits.index) == PICKS
    assert list(report.resid.columns) == PICKS
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.var_f = 0.0


def test_report_against_independent_computation(report):
    data = factordata.excess_returns(report.freq)
    x = data[PICKS].to_numpy()
    f = data["MKT"].to_numpy()
    # unrestricted covariance: numpy's, ddof=1
    np.testing.assert_allclose(report.sample_cov.to_numpy(), np.cov(x, rowvar=False), rtol=1e-13)
    assert report.var_f == pytest.approx(np.var(f, ddof=1), rel=1e-14)
    assert report.mu_f == pytest.approx(f.mean(), rel=1e-13)
    # per-ticker fits equal the single fits
    for t in PICKS:
        fit = fit_factor_model(data[t], data["MKT"])
        for col in report.fits.columns:
            assert report.fits.loc[t, col] == getattr(fit, col), (t, col)
        beta = np.cov(data[t], f)[0, 1] / np.var(f, ddof=1)
        assert report.fits.loc[t, "beta"] == pytest.approx(beta, rel=1e-10)
    # implied covariance: beta_i beta_j var_f off the diagonal, beta^2 var_f + var_e on it
    b, e = report.fits["beta"].to_numpy(), report.fits["var_e"].to_numpy()
    expected = np.outer(b, b) * report.var_f + np.diag(e)
    np.testing.assert_allclose(report.implied_cov.to_numpy(), expected, rtol=1e-14)
    # the diagonal matches the sample variances (exact decomposition), the rest does not
    np.testing.assert_allclose(np.diag(report.implied_cov), np.diag(report.sample_cov), rtol=1e-12)
    off = ~np.eye(5, dtype=bool)
    diff = report.difference.to_numpy()
    np.testing.assert_array_equal(diff, report.implied_cov.to_numpy() - report.sample_cov.to_numpy())
    assert report.max_abs_offdiag_error == np.abs(diff[off]).max() > 0
    # off the diagonal, implied - sample = - residual covariance (residuals are orthogonal to f)
    resid_cov = np.cov(report.resid.to_numpy(), rowvar=False)
    np.testing.assert_allclose(diff[off], -resid_cov[off], rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(report.residual_corr.to_numpy(), np.corrcoef(report.resid.to_numpy(), rowvar=False), atol=1e-13)


def test_report_keeps_order_and_does_not_mutate_the_list():
    picks = ["MSFT", "AAPL", "PG", "CVX", "BAC"]
    keep = list(picks)
    rep = five_ticker_report(picks, "monthly")
    assert picks == keep
    assert list(rep.fits.index) == picks and list(rep.sample_cov.columns) == picks
    assert five_ticker_report(tuple(picks), "monthly").fits.equals(rep.fits)


@pytest.mark.parametrize(
    "tickers, match",
    [
        (["WMT", "JPM", "KO", "XOM"], "exactly 5"),
        (["WMT", "JPM", "KO", "XOM", "MSFT", "PG"], "exactly 5"),
        (["WMT", "JPM", "KO", "XOM", "TSLA"], r"unknown ticker\(s\) \['TSLA'\].*AAPL"),
        (["WMT", "JPM", "KO", "XOM", "wmt"], r"unknown ticker\(s\) \['wmt'\]"),
        (["WMT", "JPM", "KO", "XOM", "WMT"], r"distinct.*\['WMT'\]"),
        (["WMT", "JPM", "KO", "XOM", "MKT"], r"unknown ticker\(s\) \['MKT'\]"),
        ("WMT JPM KO XOM MSFT", "tickers must be a list"),
        (None, "tickers must be a list"),
        (["WMT", "JPM", "KO", "XOM", 5], "tickers must be strings"),
    ],
)
def test_report_rejects_bad_tickers(tickers, match):
    with pytest.raises(ValueError, match=match):
        five_ticker_report(tickers)


def test_report_rejects_bad_freq():
    with pytest.raises(ValueError, match=r"freq must be one of \['daily', 'monthly'\]"):
        five_ticker_report(PICKS, "weekly")
