"""Rebuild the bundled data files from the PyPI packages that ship them.

Run once, by a maintainer, when the data should change::

    python -m venv /tmp/databuild
    /tmp/databuild/bin/pip install skfolio arch pandas
    /tmp/databuild/bin/pip install --no-deps zipline-reloaded
    /tmp/databuild/bin/python -m factordata.build

None of these three packages is in ``requirements.txt``: the course reads the
compact files this script writes into ``factordata/data/`` and never needs the
sources at run time. The output is deterministic (gzip without timestamps), so
rebuilding from the same package versions reproduces ``SHA256SUMS`` exactly.

Sources
-------
- skfolio ``load_sp500_dataset`` / ``load_sp500_index``: daily adjusted closes
  of 20 large US stocks and the S&P 500 *price* index, 1990-01-02 to
  2022-12-28.
- zipline-reloaded ``zipline/resources/market_data/treasury_curves.csv``:
  daily Federal Reserve H.15 constant-maturity Treasury yields, 1990 to
  2017-03-29 (the file is read as text; zipline is never imported).
- arch ``arch.data.frenchdata``: monthly Fama-French factors in percent,
  1926-07 to 2018-11.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Dropped from the bundle: its early prices are stale (see ``stale_share``).
DROPPED = ("RRC",)


def _zipline_treasury_csv() -> Path:
    # find_spec locates the package without executing zipline/__init__.py,
    # which would need zipline's many compiled dependencies.
    spec = importlib.util.find_spec("zipline")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("zipline-reloaded is not installed: pip install --no-deps zipline-reloaded")
    root = Path(list(spec.submodule_search_locations)[0])
    path = root / "resources" / "market_data" / "treasury_curves.csv"
    if not path.exists():
        raise SystemExit(f"treasury_curves.csv not found at {path}")
    return path


def load_sources() -> dict[str, pd.DataFrame]:
    """Read the three raw sources into pandas objects (no transformation)."""
    from arch.data import frenchdata
    from skfolio.datasets import load_sp500_dataset, load_sp500_index

    stocks = load_sp500_dataset()
    index = load_sp500_index()
    treasury = pd.read_csv(_zipline_treasury_csv(), index_col=0)
    french = frenchdata.load()
    return {"stocks": stocks, "index": index, "treasury": treasury, "french": french}


def stale_share(prices: pd.DataFrame) -> pd.DataFrame:
    """Share of trading days per calendar year on which the price did not move."""
    unchanged = prices.diff().eq(0).iloc[1:]
    return unchanged.groupby(unchanged.index.year).mean()


def fix_french_index(french: pd.DataFrame) -> pd.DataFrame:
    """Turn arch's mis-parsed YYYYMM index into month-end timestamps, percent into decimals.

    arch stores YYYYMM integers as nanoseconds since 1970 (so 192607 shows as
    1970-01-01 00:00:00.000192607); the integer is recovered from ``asi8``.
    """
    yyyymm = np.asarray(french.index.asi8)
    if not ((yyyymm // 100 > 1900) & (yyyymm % 100 >= 1) & (yyyymm % 100 <= 12)).all():
        raise ValueError("French index is not YYYYMM; has arch changed its format?")
    months = pd.PeriodIndex([pd.Period(f"{v // 100}-{v % 100:02d}", freq="M") for v in yyyymm])
    out = french.copy() / 100.0
    out.index = months.to_timestamp(how="end").normalize()
    out.index.name = "Date"
    return out


def daily_risk_free(yield_3m: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """Daily risk-free return from the 3-month constant-maturity yield.

    The return earned from the close of trading day t-1 to the close of day t
    is the previous day's annualized yield accrued over the calendar days held:
    ``rf_t = y_{t-1} * (date_t - date_{t-1}).days / 365``. Bond-market holidays
    on which stocks trade (Columbus Day, Veterans Day) carry the last yield
    forward.
    """
    y = yield_3m.reindex(yield_3m.index.union(dates)).ffill().reindex(dates)
    days = pd.Series(dates, index=dates).diff().dt.days
    rf = y.shift(1) * days / 365.0
    rf.name = "RF"
    return rf.iloc[1:]


def build() -> dict:
    src = load_sources()
    stocks = src["stocks"].drop(columns=list(DROPPED))
    stocks.index = pd.DatetimeIndex(stocks.index).normalize()
    stocks.index.name = "Date"
    sp500 = src["index"]["SP500"]
    sp500.index = pd.DatetimeIndex(sp500.index).normalize()
    prices = stocks.join(sp500, how="inner")
    if prices.isna().any().any():
        raise ValueError("missing prices in the skfolio data")

    treasury = src["treasury"]
    treasury.index = pd.to_datetime(treasury.index, utc=True).tz_localize(None).normalize()
    yield_3m = treasury["3month"].dropna()
    yield_3m.name = "yield_3m"

    # ---- daily: the window where prices and yields both exist ----
    last = min(prices.index[-1], yield_3m.index[-1])
    first = max(prices.index[0], yield_3m.index[0])
    dates = prices.loc[first:last].index
    rf_d = daily_risk_free(yield_3m, dates)
    ret_d = prices.loc[first:last].pct_change().iloc[1:]
    excess_d = ret_d.sub(rf_d, axis=0)
    excess_d = excess_d.rename(columns={"SP500": "MKT"})

    # ---- monthly: month-end prices, French's RF ----
    french = fix_french_index(src["french"])
    month_end = prices.resample("ME").last()
    ret_m = month_end.pct_change().iloc[1:]
    common = ret_m.index.intersection(french.index)
    ret_m = ret_m.loc[common]
    rf_m = french.loc[common, "RF"]
    excess_m = ret_m.sub(rf_m, axis=0).rename(columns={"SP500": "MKT"})
    excess_m["Mkt-RF"] = french.loc[common, "Mkt-RF"]

    outputs = {
        "prices_daily": prices,
        "treasury_3m": yield_3m.loc[first:last].to_frame(),
        "fama_french_monthly": french,
        "excess_daily": excess_d,
        "excess_monthly": excess_m,
        "rf_daily": rf_d.to_frame(),
    }
    DATA_DIR.mkdir(exist_ok=True)
    sums = []
    for name, frame in outputs.items():
        if frame.isna().any().any():
            raise ValueError(f"{name} has missing values")
        path = DATA_DIR / f"{name}.csv.gz"
        _write_csv_gz(frame, path)
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    (DATA_DIR / "SHA256SUMS").write_text("\n".join(sums) + "\n")

    stale = stale_share(src["stocks"])
    report = {
        "daily_window": [str(excess_d.index[0].date()), str(excess_d.index[-1].date()), len(excess_d)],
        "monthly_window": [str(excess_m.index[0].date()), str(excess_m.index[-1].date()), len(excess_m)],
        "monthly_corr_sp500_vs_french": round(float(excess_m["MKT"].corr(excess_m["Mkt-RF"])), 4),
        "rrc_unchanged_share_by_year": stale["RRC"].round(2).loc[1990:1997].to_dict(),
        "median_other_unchanged_share_1990_1997": round(
            float(stale.drop(columns=["RRC"]).loc[1990:1997].median().median()), 2
        ),
    }
    print(json.dumps(report, indent=2))
    return report


def _write_csv_gz(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV, gzipped with mtime=0 so identical data gives identical bytes."""
    text = frame.to_csv(float_format="%.10g", date_format="%Y-%m-%d")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())
    path.write_bytes(buf.getvalue())


if __name__ == "__main__":
    np.seterr(all="raise")
    build()
