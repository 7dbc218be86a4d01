"""The figures quoted in factordata/README.md are the data's own.

README text is not executed, so every number it states about the bundled data
is recomputed here; editing the data without the README fails this test.
"""

import re
from pathlib import Path

import pytest

import factordata

ROOT = Path(__file__).resolve().parents[1]
DATA_README = (ROOT / "factordata" / "README.md").read_text()


def _quoted(pattern: str) -> float:
    match = re.search(pattern, DATA_README)
    assert match, f"pattern {pattern!r} not found in factordata/README.md"
    return float(match.group(1).replace(",", ""))


def test_market_correlation_quoted_matches_data():
    monthly = factordata.excess_returns("monthly")
    corr = monthly["MKT"].corr(monthly["Mkt-RF"])
    assert _quoted(r"correlation (0\.\d+)") == pytest.approx(corr, abs=5e-4)


def test_dividend_gap_quoted_matches_data():
    monthly = factordata.excess_returns("monthly")
    gap_pct = (monthly["Mkt-RF"] - monthly["MKT"]).mean() * 12 * 100
    assert _quoted(r"higher by\s+(\d+\.\d+) percentage points") == pytest.approx(gap_pct, abs=5e-3)


@pytest.mark.parametrize(
    "freq, start, end, rows",
    [("daily", "1990-01-03", "2017-03-29", "6,864"), ("monthly", "1990-02-28", "2018-11-30", "346")],
)
def test_windows_quoted_match_data(freq, start, end, rows):
    frame = factordata.excess_returns(freq)
    row = f"| {start} to {end} | {rows} |"
    assert row in DATA_README
    assert str(frame.index[0].date()) == start
    assert str(frame.index[-1].date()) == end
    assert len(frame) == int(rows.replace(",", ""))


def test_ticker_list_quoted_matches_data():
    assert " ".join(factordata.tickers()) in DATA_README


def test_price_and_french_rows_quoted_match_data():
    prices = factordata.prices()
    assert f"| {prices.index[0].date()} to {prices.index[-1].date()} | {len(prices):,} |" in DATA_README
    ff = factordata.fama_french()
    span = f"{ff.index[0]:%Y-%m} to {ff.index[-1]:%Y-%m}"
    assert f"| {span} | {len(ff):,} |" in DATA_README
