"""Reference inputs shared by the checks: the bundled data and cached fits.

The references are computed with :mod:`solutions` on exactly the data the
assignments tell students to use (``factordata``, daily frequency), on the
student's own ticker choices. Results are cached per process so a notebook's
dozen checks cost one regression per ticker.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

import factordata

from ._core import solutions_module

FREQ = "daily"
#: Trading days per year: daily figures annualize with 252.
H = factordata.periods_per_year(FREQ)
MARKET = factordata.MARKET


@functools.lru_cache(maxsize=1)
def _excess() -> pd.DataFrame:
    return factordata.excess_returns(FREQ)


@functools.lru_cache(maxsize=1)
def _rf() -> pd.Series:
    return factordata.risk_free(FREQ)


def excess(ticker: str, start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily excess returns of one ticker (a copy), optionally sliced by date."""
    return _excess().loc[start:end, ticker].copy()


def factor(start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily market excess return (the factor), optionally sliced by date."""
    return _excess().loc[start:end, MARKET].copy()


def risk_free(start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily risk-free rate on the same dates as the excess returns."""
    return _rf().reindex(_excess().index).loc[start:end].copy()


def dates(start: str | None = None, end: str | None = None) -> pd.DatetimeIndex:
    return _excess().loc[start:end].index


def check_ticker(ticker, *, forbidden: tuple[str, ...] = (), name: str = "TICKER") -> str:
    """Validate a student's ticker choice, with a one-line teaching message."""
    valid = factordata.tickers()
    if not isinstance(ticker, str):
        raise AssertionError(f"{name} should be a string such as 'KO', got {type(ticker).__name__}.")
    if ticker not in valid:
        raise AssertionError(f"{name} = {ticker!r} is not one of factordata.tickers(): {', '.join(valid)}.")
    if ticker in forbidden:
        raise AssertionError(
            f"{name} = {ticker!r} is used in the chapter; pick another stock "
            f"(not {' or '.join(forbidden)})."
        )
    return ticker


def check_tickers(tickers, *, n: int = 5, name: str = "TICKERS") -> tuple[str, ...]:
    """Validate a list of ``n`` distinct tickers from the bundled universe."""
    if isinstance(tickers, str) or not isinstance(tickers, (list, tuple, pd.Index, np.ndarray)):
        raise AssertionError(f"{name} should be a list of {n} ticker strings, got {type(tickers).__name__}.")
    tickers = list(tickers)
    if len(tickers) != n:
        raise AssertionError(f"{name} should list exactly {n} tickers, got {len(tickers)}.")
    for t in tickers:
        check_ticker(t, name=f"Each entry of {name}")
    if len(set(tickers)) != n:
        raise AssertionError(f"{name} should list {n} distinct tickers; some appear twice.")
    return tuple(tickers)


@functools.lru_cache(maxsize=64)
def fit(ticker: str, start: str | None = None, end: str | None = None):
    """The reference single-factor fit (``solutions.fit_factor_model``)."""
    return solutions_module().fit_factor_model(excess(ticker, start, end), factor(start, end))


@functools.lru_cache(maxsize=64)
def raw_fit(ticker: str, start: str | None = None, end: str | None = None):
    """Mistake variant: the same regression on raw returns (rf added back to both).

    As when a student computes returns from prices and forgets to subtract
    the risk-free rate (``solutions.mistakes.fit_on_raw_returns``).
    """
    return solutions_module().mistakes.fit_on_raw_returns(
        excess(ticker, start, end), factor(start, end), risk_free(start, end)
    )
