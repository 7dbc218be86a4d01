"""Real market data bundled with the course, and its loader.

Every chapter, assignment and the autograder read the data through these
functions, so they all see the same numbers. The files live in
``factordata/data/`` and were built once by ``python -m factordata.build``
from data files that PyPI packages ship (skfolio, zipline-reloaded, arch);
see ``factordata/README.md`` for provenance, licences and caveats.

All returns are simple (not log) returns in decimals (0.01 is one percent),
per period of the stated frequency. Excess returns are returns minus the
risk-free rate of the same period.

Examples
--------
>>> import factordata
>>> daily = factordata.excess_returns("daily")
>>> daily[["WMT", "JPM", "MKT"]].shape[1]
3
>>> factordata.periods_per_year("monthly")
12
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pandas as pd

from . import variants
from .variants import assignment_parameters

__all__ = [
    "FREQUENCIES",
    "MARKET",
    "assignment_parameters",
    "excess_returns",
    "fama_french",
    "market",
    "periods_per_year",
    "prices",
    "risk_free",
    "tickers",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Periods per year for each frequency the data comes in.
FREQUENCIES = {"daily": 252, "monthly": 12}

#: Name of the market factor column: S&P 500 price return minus the risk-free rate.
MARKET = "MKT"

#: Name of Kenneth French's market factor in the monthly data (value-weighted
#: US market, dividends included, minus the one-month T-bill).
FRENCH_MARKET = "Mkt-RF"

_FACTOR_COLUMNS = {"daily": [MARKET], "monthly": [MARKET, FRENCH_MARKET]}


def _check_freq(freq: str) -> str:
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {sorted(FREQUENCIES)}, got {freq!r}")
    return freq


@functools.lru_cache(maxsize=1)
def _checksums() -> dict[str, str]:
    sums = {}
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


@functools.lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    """Read one bundled file once per process, after checking its SHA-256."""
    path = DATA_DIR / f"{name}.csv.gz"
    raw = path.read_bytes()
    expected = _checksums().get(path.name)
    if expected is None or hashlib.sha256(raw).hexdigest() != expected:
        raise RuntimeError(
            f"{path} does not match factordata/data/SHA256SUMS; rebuild with python -m factordata.build"
        )
    frame = pd.read_csv(path, index_col=0, parse_dates=True, compression="gzip")
    frame.index.name = "Date"
    return frame


def verify() -> dict[str, str]:
    """Check every bundled file against ``SHA256SUMS``; return ``{file: digest}``.

    Raises
    ------
    RuntimeError
        If a file is missing or its digest differs.
    """
    out = {}
    for name, digest in _checksums().items():
        actual = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        if actual != digest:
            raise RuntimeError(f"{name}: checksum mismatch")
        out[name] = actual
    return out


def tickers() -> list[str]:
    """The stock tickers in the bundled universe, alphabetically.

    Returns
    -------
    list of str
        Nineteen large US stocks (skfolio's S&P 500 sample without RRC, whose
        early prices are stale; see the README).
    """
    return [c for c in _read("excess_daily").columns if c != MARKET]


def _select(frame: pd.DataFrame, names, keep: list[str]) -> pd.DataFrame:
    if names is None:
        return frame.copy()
    if isinstance(names, str):
        names = [names]
    names = list(names)
    valid = tickers()
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(f"unknown ticker(s) {unknown}; valid tickers are {valid}")
    if len(set(names)) != len(names):
        raise ValueError(f"tickers contains duplicates: {names}")
    return frame[names + keep].copy()


def excess_returns(freq: str = "daily", tickers=None) -> pd.DataFrame:
    """Excess returns of the stocks and the market factor.

    Parameters
    ----------
    freq : {"daily", "monthly"}
        ``"daily"``: close-to-close returns, 1990-01-03 to 2017-03-29, minus
        the daily risk-free rate from the 3-month Treasury yield.
        ``"monthly"``: month-end to month-end returns, 1990-02 to 2018-11,
        minus Kenneth French's one-month T-bill rate.
    tickers : str or list of str, optional
        Stocks to keep (default all). The factor columns are always included.

    Returns
    -------
    pandas.DataFrame
        One column per ticker plus ``"MKT"`` (S&P 500 *price* return minus the
        risk-free rate) and, monthly only, ``"Mkt-RF"`` (French's value-weighted
        market including dividends, minus the T-bill). Decimals per period;
        index is the period's end date. No missing values.

    Raises
    ------
    ValueError
        If ``freq`` or a ticker is not one of the valid choices.
    """
    freq = _check_freq(freq)
    return _select(_read(f"excess_{freq}"), tickers, _FACTOR_COLUMNS[freq])


def market(freq: str = "daily") -> pd.Series:
    """The market factor ``MKT`` (S&P 500 price return minus rf) as a Series.

    Parameters
    ----------
    freq : {"daily", "monthly"}

    Returns
    -------
    pandas.Series
        Excess market return per period, decimals, named ``"MKT"``.
    """
    freq = _check_freq(freq)
    return _read(f"excess_{freq}")[MARKET].copy()


def risk_free(freq: str = "daily") -> pd.Series:
    """The risk-free return per period, on the same dates as :func:`excess_returns`.

    Parameters
    ----------
    freq : {"daily", "monthly"}
        ``"daily"``: the previous trading day's 3-month constant-maturity
        Treasury yield (Federal Reserve H.15, annualized) accrued over the
        calendar days held, ``rf_t = y_{t-1} * days / 365``.
        ``"monthly"``: Kenneth French's one-month T-bill return.

    Returns
    -------
    pandas.Series
        Decimals per period, named ``"RF"``.
    """
    freq = _check_freq(freq)
    if freq == "daily":
        return _read("rf_daily")["RF"].copy()
    dates = _read("excess_monthly").index
    return _read("fama_french_monthly").loc[dates, "RF"].copy()


def prices(tickers=None) -> pd.DataFrame:
    """Daily adjusted closing prices (USD) and the S&P 500 price index.

    Parameters
    ----------
    tickers : str or list of str, optional
        Stocks to keep (default all); the ``"SP500"`` column is always kept.

    Returns
    -------
    pandas.DataFrame
        1990-01-02 to 2022-12-28, adjusted for splits and dividends (stocks),
        index level in points (``"SP500"``, no dividends). Early prices are
        rounded to three decimals.
    """
    return _select(_read("prices_daily"), tickers, ["SP500"])


def fama_french() -> pd.DataFrame:
    """Kenneth French's monthly factors, 1926-07 to 2018-11, in decimals.

    Returns
    -------
    pandas.DataFrame
        Columns ``"Mkt-RF"``, ``"SMB"``, ``"HML"``, ``"RF"``; index is the
        calendar month end.
    """
    return _read("fama_french_monthly").copy()


def periods_per_year(freq: str) -> int:
    """Periods per year used to annualize: 252 for daily data, 12 for monthly.

    Raises
    ------
    ValueError
        If ``freq`` is not ``"daily"`` or ``"monthly"``.
    """
    return FREQUENCIES[_check_freq(freq)]
