"""Input checks at the door.

Every public function in :mod:`solutions` validates its arguments here before
computing anything, so a bad input fails at once with a one-line
``ValueError`` that names the argument and says what was expected, and no
input is ever modified.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

#: Fewest observations a regression with an intercept and one slope accepts:
#: two parameters plus at least one residual degree of freedom.
MIN_OBS = 3


def scalar(value, name: str) -> float:
    """Return ``value`` as a finite Python float, or raise ``ValueError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return scalar(value.item(), name)
        raise ValueError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    return out


def positive(value, name: str) -> float:
    """A finite scalar > 0."""
    out = scalar(value, name)
    if out <= 0:
        raise ValueError(f"{name} must be positive, got {out!r}")
    return out


def nonnegative(value, name: str) -> float:
    """A finite scalar >= 0."""
    out = scalar(value, name)
    if out < 0:
        raise ValueError(f"{name} must be non-negative, got {out!r}")
    return out


def periods_per_year(value, name: str = "periods_per_year") -> float:
    """A positive number of periods per year (252 daily, 12 monthly)."""
    if isinstance(value, str):
        raise ValueError(
            f"{name} must be a number of periods per year (252 for daily data, 12 for monthly), "
            f"got the string {value!r}; use factordata.periods_per_year({value!r})"
        )
    return positive(value, name)


def array_like(value, name: str, *, lower: float | None = None, strict: bool = False):
    """Check a scalar, array, Series or DataFrame elementwise; return it as float.

    Scalars come back as Python floats; arrays and lists as float numpy
    arrays; Series and DataFrames as float copies (the input is not touched).
    ``lower`` with ``strict`` checks ``> lower``; without, ``>= lower``.
    """
    if isinstance(value, (pd.Series, pd.DataFrame)):
        try:
            out = value.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must contain real numbers only") from None
        values = out.to_numpy()
    elif isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        try:
            out = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must contain real numbers, got {value!r}") from None
        values = out
    else:
        out = scalar(value, name)
        values = np.asarray(out)
    if values.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    if lower is not None:
        bad = values <= lower if strict else values < lower
        if np.any(bad):
            what = "positive" if (lower == 0 and strict) else (
                "non-negative" if lower == 0 else f"{'>' if strict else '>='} {lower}")
            raise ValueError(f"{name} must be {what}, got {np.asarray(values)[bad].ravel()[0]!r}")
    return out


def result(value):
    """Hand back a 0-d numpy result as a Python float; arrays and Series unchanged."""
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value
    if np.ndim(value) == 0:
        return float(value)
    return value


def series(value, name: str) -> pd.Series:
    """Turn a Series, a one-column DataFrame, an array or a list into a float Series.

    The result is always a new object, so callers may modify it freely.
    """
    if isinstance(value, pd.DataFrame):
        if value.shape[1] != 1:
            raise ValueError(
                f"{name} must be a Series or a one-column DataFrame, got {value.shape[1]} columns "
                f"{list(value.columns)}"
            )
        value = value.iloc[:, 0]
    if isinstance(value, (pd.Series, pd.DataFrame)):
        try:
            return value.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must contain numbers, got dtype {value.dtype}") from None
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise ValueError(
            f"{name} must be a pandas Series or a 1-D array of returns, got {type(value).__name__}"
        )
    try:
        values = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pandas Series or a 1-D array of numbers") from None
    if values.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
    return pd.Series(values)


def aligned_pair(y, x, y_name: str, x_name: str, *, min_obs: int = MIN_OBS):
    """Align two return series by date and drop incomplete rows.

    Two Series are aligned on their indexes (inner join). Arrays or lists
    must have equal lengths and are aligned by position; a Series paired with
    an array of the same length lends the array its index. Rows where either
    value is NaN are dropped, then at least ``min_obs`` rows must remain.

    Returns
    -------
    (pandas.Series, pandas.Series)
        New float Series with identical indexes.
    """
    y_is_series = isinstance(y, (pd.Series, pd.DataFrame))
    x_is_series = isinstance(x, (pd.Series, pd.DataFrame))
    ys = series(y, y_name)
    xs = series(x, x_name)
    if y_is_series and x_is_series:
        if ys.index.has_duplicates:
            raise ValueError(f"{y_name} has duplicate index labels; expected one row per date")
        if xs.index.has_duplicates:
            raise ValueError(f"{x_name} has duplicate index labels; expected one row per date")
        if ys.index.equals(xs.index):  # the common case (columns of one frame): nothing to align
            common = None
        else:
            common = ys.index.intersection(xs.index, sort=False)
        if common is not None and len(common) == 0:
            raise ValueError(
                f"{y_name} and {x_name} share no dates: their indexes do not overlap "
                f"({y_name}: {_span(ys)}; {x_name}: {_span(xs)})"
            )
        if common is not None:
            ys, xs = ys.loc[common], xs.loc[common]
    else:
        if len(ys) != len(xs):
            raise ValueError(
                f"{y_name} and {x_name} must have the same length, got {len(ys)} and {len(xs)}"
            )
        if y_is_series:
            xs.index = ys.index
        elif x_is_series:
            ys.index = xs.index
    return _complete_rows(ys, xs, y_name, x_name, min_obs, "both are")


def _complete_rows(ys, xs, y_name: str, x_name: str, min_obs: int, verb: str):
    """Drop rows with a NaN in ``ys`` or ``xs``; refuse infinities and too few rows."""
    x_ok = xs.notna().to_numpy() if isinstance(xs, pd.Series) else xs.notna().all(axis=1).to_numpy()
    keep = ys.notna().to_numpy() & x_ok
    if not keep.all():
        ys, xs = ys[keep], xs[keep]
    if not (np.isfinite(ys.to_numpy()).all() and np.isfinite(xs.to_numpy()).all()):
        raise ValueError(f"{y_name} and {x_name} must not contain infinite values")
    if len(ys) < min_obs:
        raise ValueError(
            f"{y_name} and {x_name} need at least {min_obs} dates where {verb} observed "
            f"(not NaN), got {len(ys)}"
        )
    return ys, xs


def _span(s: pd.Series) -> str:
    if len(s) == 0:
        return "empty"
    return f"{s.index[0]} to {s.index[-1]}, {len(s)} rows"


def factor_frame(value, name: str) -> pd.DataFrame:
    """Turn a DataFrame or a 2-D array of factor returns into a float DataFrame (a new object).

    Column names must be distinct strings other than ``"const"`` (the
    regression's intercept); a 2-D array's columns are named ``f1, f2, ...``.
    """
    if isinstance(value, pd.DataFrame):
        frame = value
    elif isinstance(value, np.ndarray) and value.ndim == 2:
        frame = pd.DataFrame(value, columns=[f"f{i + 1}" for i in range(value.shape[1])])
    else:
        raise ValueError(f"{name} must be a pandas DataFrame or 2-D array, one column per factor, "
                         f"got {type(value).__name__}")
    if frame.shape[1] == 0:
        raise ValueError(f"{name} must have at least one column (one per factor)")
    cols = list(frame.columns)
    if not all(isinstance(c, str) and c not in ("", "const") for c in cols):
        raise ValueError(f"{name}'s columns must be factor names (strings other than 'const'), got {cols}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"{name} has duplicate column names: {cols}")
    try:
        return frame.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain numbers only") from None


def aligned_frame(y, x, y_name: str, x_name: str, *, min_obs: int | None = None):
    """Align a return series with a frame of factor returns and drop incomplete rows.

    As :func:`aligned_pair`, for ``K`` factors: a Series and a DataFrame are
    aligned on their indexes (inner join); an array is aligned by position.
    Rows where ``y`` or any factor is NaN are dropped; at least ``min_obs``
    rows must remain (default ``K + 2``: the intercept, ``K`` betas and one
    residual degree of freedom).

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        New float objects with identical indexes.
    """
    y_is_series = isinstance(y, (pd.Series, pd.DataFrame))
    x_is_frame = isinstance(x, pd.DataFrame)
    ys = series(y, y_name)
    xs = factor_frame(x, x_name)
    if min_obs is None:
        min_obs = xs.shape[1] + 2
    if y_is_series and x_is_frame:
        for label, obj in ((y_name, ys), (x_name, xs)):
            if obj.index.has_duplicates:
                raise ValueError(f"{label} has duplicate index labels; expected one row per date")
        if not ys.index.equals(xs.index):
            common = ys.index.intersection(xs.index, sort=False)
            if len(common) == 0:
                raise ValueError(f"{y_name} and {x_name} share no dates: their indexes do not overlap")
            ys, xs = ys.loc[common], xs.loc[common]
    else:
        if len(ys) != len(xs):
            raise ValueError(f"{y_name} and {x_name} must have the same length, got {len(ys)} and {len(xs)}")
        if y_is_series:
            xs.index = ys.index
        else:
            ys.index = xs.index
    return _complete_rows(ys, xs, y_name, x_name, min_obs, "all are")
