"""factordata: the bundled data is intact, shaped as documented, and safe to use."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import factordata

WINDOWS = {
    "daily": ("1990-01-03", "2017-03-29", 6864),
    "monthly": ("1990-02-28", "2018-11-30", 346),
}
TICKERS = "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG UNH WMT XOM".split()


def test_checksums_match():
    sums = factordata.verify()
    assert len(sums) >= 5
    assert all(len(digest) == 64 for digest in sums.values())


def test_tickers():
    assert factordata.tickers() == TICKERS
    assert "RRC" not in factordata.tickers()


@pytest.mark.parametrize("freq", ["daily", "monthly"])
def test_windows_shapes_and_columns(freq):
    start, end, rows = WINDOWS[freq]
    frame = factordata.excess_returns(freq)
    assert (str(frame.index[0].date()), str(frame.index[-1].date()), len(frame)) == (start, end, rows)
    factors = ["MKT"] if freq == "daily" else ["MKT", "Mkt-RF"]
    assert list(frame.columns) == TICKERS + factors
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.dtypes == float).all()
    assert factordata.periods_per_year(freq) == {"daily": 252, "monthly": 12}[freq]


@pytest.mark.parametrize("freq", ["daily", "monthly"])
def test_no_missing_values_and_sane_magnitudes(freq):
    frame = factordata.excess_returns(freq)
    assert not frame.isna().any().any()
    assert np.isfinite(frame.to_numpy()).all()
    # decimals, not percent: no stock loses more than everything in one period
    assert frame.min().min() > -1.0
    ann_vol = frame["MKT"].std() * np.sqrt(factordata.periods_per_year(freq))
    assert 0.10 < ann_vol < 0.25  # annualized market volatility of the order of 15%


@pytest.mark.parametrize("freq", ["daily", "monthly"])
def test_factor_and_risk_free_series_line_up(freq):
    frame = factordata.excess_returns(freq)
    mkt = factordata.market(freq)
    rf = factordata.risk_free(freq)
    pd.testing.assert_series_equal(mkt, frame["MKT"])
    assert rf.name == "RF" and rf.index.equals(frame.index)
    assert not rf.isna().any()
    per_year = rf.mean() * factordata.periods_per_year(freq)
    assert 0.0 < per_year < 0.06  # T-bill rates averaged a few percent a year
    assert rf.min() >= 0.0


def test_every_daily_beta_is_plausible():
    frame = factordata.excess_returns("daily")
    f = frame["MKT"].to_numpy()
    for t in TICKERS:
        beta = np.cov(frame[t].to_numpy(), f)[0, 1] / np.var(f, ddof=1)
        assert 0.3 < beta < 2.5, (t, beta)


def test_monthly_markets_agree():
    monthly = factordata.excess_returns("monthly")
    assert monthly["MKT"].corr(monthly["Mkt-RF"]) > 0.95
    ff = factordata.fama_french()
    assert list(ff.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert str(ff.index[0].date()) == "1926-07-31" and str(ff.index[-1].date()) == "2018-11-30"
    pd.testing.assert_series_equal(ff.loc[monthly.index, "Mkt-RF"], monthly["Mkt-RF"], check_freq=False)
    assert ff["RF"].abs().max() < 0.02  # decimals per month, not percent


def test_prices():
    px = factordata.prices(["WMT", "KO"])
    assert list(px.columns) == ["WMT", "KO", "SP500"]
    assert str(px.index[0].date()) == "1990-01-02" and str(px.index[-1].date()) == "2022-12-28"
    assert (px.dropna() > 0).all().all()


def test_returns_copies():
    first = factordata.excess_returns("daily")
    first.iloc[0, 0] = 99.0
    first["NEW"] = 1.0
    second = factordata.excess_returns("daily")
    assert second.iloc[0, 0] != 99.0 and "NEW" not in second
    rf = factordata.risk_free("monthly")
    rf.iloc[:] = 0.0
    assert factordata.risk_free("monthly").abs().sum() > 0
    names = factordata.tickers()
    names.append("XYZ")
    assert "XYZ" not in factordata.tickers()
    mkt = factordata.market("daily")
    mkt.iloc[0] = 5.0
    assert factordata.excess_returns("daily")["MKT"].iloc[0] != 5.0


def test_ticker_selection_keeps_factors():
    frame = factordata.excess_returns("monthly", ["KO", "PEP"])
    assert list(frame.columns) == ["KO", "PEP", "MKT", "Mkt-RF"]
    assert list(factordata.excess_returns("daily", "KO").columns) == ["KO", "MKT"]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: factordata.excess_returns("weekly"), r"freq must be one of \['daily', 'monthly'\]"),
        (lambda: factordata.market("annual"), "freq must be one of"),
        (lambda: factordata.risk_free("Daily"), "freq must be one of"),
        (lambda: factordata.periods_per_year("yearly"), "freq must be one of"),
        (lambda: factordata.excess_returns("daily", ["KO", "TSLA"]), r"unknown ticker\(s\) \['TSLA'\].*valid tickers are \['AAPL'"),
        (lambda: factordata.prices(["RRC"]), r"unknown ticker\(s\) \['RRC'\]"),
        (lambda: factordata.excess_returns("daily", ["KO", "KO"]), "duplicates"),
    ],
)
def test_bad_arguments_name_the_valid_choices(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_loader_works_from_another_directory(tmp_path):
    code = (
        "import factordata; f = factordata.excess_returns('monthly'); "
        "print(f.shape[0], factordata.verify() is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["346", "True"]
