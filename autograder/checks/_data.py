"""Reference inputs shared by the checks: the bundled data and cached fits.

The references are computed with :mod:`solutions` on exactly the data the
assignments tell students to use (``factordata``, daily frequency), on the
student's own ticker choices and, with per-student variants, on the
student's own sample window (:func:`._params.window`: a call without dates
means that window; the whole sample without variants). Results are cached
per process and window, so a notebook's dozen checks cost one regression per
ticker.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

import factordata

from . import _params
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


def _span(start, end) -> tuple:
    """Explicit dates, or the student's window when none are given."""
    return _params.window() if start is None and end is None else (start, end)


def excess(ticker: str, start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily excess returns of one ticker (a copy), sliced by date (default: the window)."""
    start, end = _span(start, end)
    return _excess().loc[start:end, ticker].copy()


def factor(start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily market excess return (the factor), sliced by date (default: the window)."""
    start, end = _span(start, end)
    return _excess().loc[start:end, MARKET].copy()


def risk_free(start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily risk-free rate on the same dates as the excess returns."""
    start, end = _span(start, end)
    return _rf().reindex(_excess().index).loc[start:end].copy()


def dates(start: str | None = None, end: str | None = None) -> pd.DatetimeIndex:
    start, end = _span(start, end)
    return _excess().loc[start:end].index


def sample_text() -> str:
    """The sample the checks in progress use, in words (for messages)."""
    start, end = _params.window()
    if start is None:
        return "every day of factordata.excess_returns('daily'), 1990-2017"
    return f"every day of your window, {start}-{end} (P['start'] to P['end'])"


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


def fit(ticker: str, start: str | None = None, end: str | None = None):
    """The reference single-factor fit (``solutions.fit_factor_model``), default on the window."""
    return _fit(ticker, *_span(start, end))


@functools.lru_cache(maxsize=64)
def _fit(ticker, start, end):
    return solutions_module().fit_factor_model(excess(ticker, start, end), factor(start, end))


def raw_fit(ticker: str, start: str | None = None, end: str | None = None):
    """Mistake variant: the same regression on raw returns (rf added back to both).

    As when a student computes returns from prices and forgets to subtract
    the risk-free rate (``solutions.mistakes.fit_on_raw_returns``).
    """
    return _raw_fit(ticker, *_span(start, end))


@functools.lru_cache(maxsize=64)
def _raw_fit(ticker, start, end):
    return solutions_module().mistakes.fit_on_raw_returns(
        excess(ticker, start, end), factor(start, end), risk_free(start, end)
    )


# ---- sub-samples (a common mistake: a window instead of the full sample) ----------
@_params.cached
def _windows(ticker: str | None):
    """Statistics of every sub-sample of the sample in use, vectorised with prefix sums.

    Windows: every span of whole calendar years, and the first or last k
    years of 252 trading days. Returns (labels, dict stat -> array).
    """
    f = factor().to_numpy()
    r = excess(ticker).to_numpy() if ticker else f
    idx = dates()
    years = idx.year.to_numpy()
    n_all = len(f)
    bounds = {}
    uniq = sorted(set(years))
    first = {y: int(np.searchsorted(years, y, "left")) for y in uniq}
    last = {y: int(np.searchsorted(years, y, "right")) for y in uniq}
    for a in uniq:
        for b in uniq:
            if b >= a:
                bounds[(first[a], last[b])] = f"{a}-{b}" if b > a else f"{a}"
    for k in range(1, n_all // 252 + 1):
        bounds.setdefault((0, 252 * k), f"the first {252 * k} days")
        bounds.setdefault((n_all - 252 * k, n_all), f"the last {252 * k} days")
    bounds.pop((0, n_all), None)
    spans = [(i, j, lab) for (i, j), lab in bounds.items() if j - i >= 60]
    i = np.array([s[0] for s in spans])
    j = np.array([s[1] for s in spans])
    labels = [s[2] for s in spans]
    with np.errstate(divide="ignore", invalid="ignore"):
        return labels, _window_stats(i, j, r, f)


def _window_stats(i, j, r, f):
    c = lambda x: np.concatenate([[0.0], np.cumsum(x)])
    sr, sf, srr, sff, srf = c(r), c(f), c(r * r), c(f * f), c(r * f)
    n = (j - i).astype(float)
    Sr, Sf = sr[j] - sr[i], sf[j] - sf[i]
    var_r = (srr[j] - srr[i] - Sr**2 / n) / (n - 1)
    var_f = (sff[j] - sff[i] - Sf**2 / n) / (n - 1)
    cov = (srf[j] - srf[i] - Sr * Sf / n) / (n - 1)
    beta = cov / var_f
    mean_r, mean_f = Sr / n, Sf / n
    var_e = var_r - beta**2 * var_f
    stats = {
        "alpha": mean_r - beta * mean_f, "beta": beta, "var_e": var_e, "r2": cov**2 / (var_r * var_f),
        "var_r": var_r, "var_f": var_f, "sigma_r": np.sqrt(var_r), "sigma_e": np.sqrt(var_e),
        "mean_r": mean_r, "var_factor": beta**2 * var_f, "factor_share": beta**2 * var_f / var_r,
        "sharpe_r": mean_r / np.sqrt(var_r) * np.sqrt(H),
        "sharpe_hedged": (mean_r - beta * mean_f) / np.sqrt(var_e) * np.sqrt(H),
    }
    return stats


#: What :func:`subsample` returns for the whole data set used instead of the student's window.
WHOLE_SAMPLE = "the whole sample"


@functools.lru_cache(maxsize=32)
def _whole_stats(ticker: str | None) -> dict:
    """The statistics of :func:`_windows` on every day of the data (for a student's window)."""
    f = _excess()[MARKET].to_numpy()
    r = _excess()[ticker].to_numpy() if ticker else f
    with np.errstate(divide="ignore", invalid="ignore"):
        return _window_stats(np.array([0]), np.array([len(f)]), r, f)


def subsample(ticker: str | None, stat: str, got, scale: float = 1.0) -> str | None:
    """The sub-sample window whose ``stat`` (times ``scale``) equals ``got``, if any.

    With a window of the student's own (variants), also :data:`WHOLE_SAMPLE`
    when ``got`` is the statistic on every day of the data instead.
    """
    try:
        got = float(got)
    except (TypeError, ValueError):
        return None
    if _params.window()[0] is not None and np.isclose(_whole_stats(ticker)[stat][0] * scale, got, rtol=1e-6, atol=0.0):
        return WHOLE_SAMPLE
    labels, stats = _windows(ticker)
    values = stats[stat] * scale
    hit = np.flatnonzero(np.isclose(values, got, rtol=1e-6, atol=0.0))
    return labels[hit[0]] if hit.size else None


def subsample_text(window: str) -> str:
    if window == WHOLE_SAMPLE:
        return f"the whole 1990-2017 sample instead of your window: use {sample_text()}"
    return f"a sub-sample ({window}) instead of the full sample: use {sample_text()}"


def subsample_finder(ticker: str | None, stat: str, scale: float = 1.0):
    """A :class:`~._core.Finder` naming the sub-sample a scalar answer was computed on."""
    from ._core import Finder

    def find(got):
        window = subsample(ticker, stat, got, scale)
        return subsample_text(window) if window else None

    return Finder(find, summary="a sub-sample instead of the full sample")
