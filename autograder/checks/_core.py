"""Comparison helpers shared by the assignment checks.

Every public check in ``autograder.checks`` follows the same steps:

1. coerce the student's answer to the expected kind (number, Series,
   DataFrame) or fail with a message naming the variable and what it got;
2. compare with the reference computed by ``solutions`` on the student's own
   choices, with an explicit tolerance;
3. on a mismatch, compare with the common-mistake variants and name the one
   that matches, else give the question's checklist.

Messages never contain the reference value (nor a ratio or direction that
would give it away): they say *what* is wrong, not what the answer is.

These helpers are hand-written rather than taken from ``numpy.testing`` or
``pandas.testing`` on purpose: those assertion helpers print the expected
values in their messages, which would hand students the answer.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

#: Default relative tolerance for numbers computed from the same data. Tight
#: enough to tell ddof=0 from ddof=1 on 500+ observations (relative gap
#: 1/(n-1) >= 1.5e-4 on the daily sample) and loose enough for any correct
#: method (statsmodels, numpy.linalg, closed-form cov/var agree to ~1e-12).
RTOL = 1e-6


@dataclass(frozen=True)
class Mistake:
    """A common-mistake variant: what the student did, and the value it gives.

    Parameters
    ----------
    description : str
        Completes the sentence "This matches ...", e.g. "a beta estimated on
        raw, not excess, returns".
    value : float, Series or DataFrame, or a callable returning one
        The value that mistake produces on the student's inputs. A callable
        is evaluated only when needed (after the answer failed).
    """

    description: str
    value: Any


#: Set by the trusted judge (:mod:`autograder.judge`) while it runs a
#: question's hidden tests: ``{"typed_in": names the student assigned a bare
#: number to}``. Empty elsewhere (stock ``nbgrader autograde`` runs the
#: checks in the student's kernel, where this context does not exist).
JUDGE_CONTEXT: contextvars.ContextVar = contextvars.ContextVar("judge_context", default={})


def require_computed(name: str) -> None:
    """Fail when ``name`` was typed in as a bare number by the student.

    For "show it" answers (a correlation that OLS makes zero, a hedge that
    meets a limit): the value must come from the student's computation, not
    from the statement of the question.
    """
    if name in JUDGE_CONTEXT.get().get("typed_in", ()):
        raise AssertionError(
            f"{name} is typed in as a number; the question asks you to show it by computing it "
            "from your data.")


def solutions_module():
    """The reference module (imported lazily)."""
    import solutions

    return solutions


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape}"
    return type(value).__name__


# --------------------------------------------------------------------------
# Coercion with clear type/shape messages
# --------------------------------------------------------------------------
def as_number(value: Any, name: str) -> float:
    """Return ``value`` as a Python float, or fail with a one-line message.

    Accepts Python and numpy scalars (int or float) and 0-d arrays; refuses
    Series, lists, strings, booleans, NaN and infinities.
    """
    if isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{name} should be a number (float), got a boolean.")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (int, float, np.integer, np.floating)):
        out = float(value)
    else:
        raise AssertionError(
            f"{name} should be a single number (float), got {_kind(value)}."
            + (" Take the single value out, e.g. with float(...)."
               if isinstance(value, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)) else "")
        )
    if not math.isfinite(out):
        raise AssertionError(f"{name} should be a finite number, got {out}.")
    return out


def as_int(value: Any, name: str) -> int:
    """Return ``value`` as an int; integral floats (11.0) are accepted."""
    number = as_number(value, name)
    if number != round(number):
        raise AssertionError(f"{name} should be a whole number (a count), got a fractional number.")
    return int(round(number))


def as_series(value: Any, name: str, index: pd.Index, *, index_desc: str) -> pd.Series:
    """Return ``value`` as a float Series with exactly the labels of ``index``.

    Label order does not matter (the Series is reindexed); missing or extra
    labels and unlabelled data (a RangeIndex, a numpy array) fail.
    """
    if isinstance(value, pd.DataFrame) and value.shape[1] == 1:
        raise AssertionError(
            f"{name} should be a pandas Series, got a one-column DataFrame; "
            "select the column to get a Series."
        )
    if not isinstance(value, pd.Series):
        raise AssertionError(
            f"{name} should be a pandas Series indexed by {index_desc}, got {_kind(value)}."
        )
    _check_labels(value.index, index, name, "index", index_desc)
    out = value.reindex(index)
    try:
        out = out.astype(float)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should hold numbers, got values of dtype {value.dtype}.") from None
    if out.isna().any():
        raise AssertionError(f"{name} contains NaN values; every {index_desc} needs a number.")
    return out


def as_frame(value: Any, name: str, index: pd.Index, columns: Sequence[str], *,
             index_desc: str, extra_columns_ok: bool = False) -> pd.DataFrame:
    """Return ``value`` as a float DataFrame with the given row and column labels.

    Row and column order do not matter. With ``extra_columns_ok`` further
    columns are allowed and dropped.
    """
    if not isinstance(value, pd.DataFrame):
        raise AssertionError(
            f"{name} should be a pandas DataFrame, got {_kind(value)}."
        )
    _check_labels(value.index, index, name, "index (rows)", index_desc)
    cols = pd.Index(columns)
    if extra_columns_ok:
        missing = [c for c in cols if c not in value.columns]
        if missing:
            raise AssertionError(f"{name} is missing the column(s) {missing}.")
    else:
        _check_labels(value.columns, cols, name, "columns", f"the labels {list(cols)}")
    out = value.reindex(index=index, columns=cols)
    try:
        out = out.astype(float)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should hold numbers only.") from None
    if out.isna().any().any():
        raise AssertionError(f"{name} contains NaN values.")
    return out


def _check_labels(got: pd.Index, want: pd.Index, name: str, axis: str, desc: str) -> None:
    if got.has_duplicates:
        raise AssertionError(f"The {axis} of {name} has duplicate labels.")
    if len(got) == len(want) and set(got) == set(want):
        return
    if isinstance(want, pd.DatetimeIndex) and not isinstance(got, pd.DatetimeIndex):
        raise AssertionError(
            f"The {axis} of {name} should be the dates ({desc}), got {type(got).__name__}; "
            "keep the pandas index of the returns instead of converting to numpy."
        )
    if len(got) != len(want):
        raise AssertionError(
            f"{name} should have {len(want)} entries along its {axis} ({desc}), got {len(got)}."
        )
    raise AssertionError(f"The {axis} of {name} should be {desc}.")


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------
def _close(got: Any, want: Any, rtol: float, atol: float) -> bool:
    a = np.asarray(got, dtype=float)
    b = np.asarray(want, dtype=float)
    if a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _default_atol(want: Any) -> float:
    scale = float(np.max(np.abs(np.asarray(want, dtype=float)))) if np.size(want) else 0.0
    # Entries near zero inside an array are compared relative to the array's
    # scale; a lone scalar near zero gets a tiny absolute floor.
    return max(1e-10 * scale, 1e-14)


def _align_like(value: Any, want: Any) -> Any:
    if isinstance(want, pd.DataFrame) and isinstance(value, pd.DataFrame):
        return value.reindex(index=want.index, columns=want.columns)
    if isinstance(want, pd.Series) and isinstance(value, pd.Series):
        return value.reindex(want.index)
    return value


def matching_mistake(got: Any, mistakes: Iterable[Mistake], rtol: float) -> str | None:
    """Description of the first mistake variant equal to ``got``, else None."""
    for mistake in mistakes:
        value = mistake.value() if callable(mistake.value) else mistake.value
        if value is None:
            continue
        value = _align_like(value, got)
        try:
            if np.shape(value) != np.shape(got) or not np.all(np.isfinite(np.asarray(value, dtype=float))):
                continue
        except (TypeError, ValueError):
            continue
        if _close(got, value, rtol, _default_atol(value)):
            note_mistake(mistake.description)
            return mistake.description
    return None


def note_mistake(description: str) -> None:
    """Tell the judge which named mistake an answer matched (for the class summary)."""
    found = JUDGE_CONTEXT.get().get("mistakes")
    if isinstance(found, list):
        found.append(description)


def compare(got: Any, want: Any, name: str, *, what: str, rtol: float = RTOL,
            atol: float | None = None, mistakes: Iterable[Mistake] = (),
            checklist: str = "") -> None:
    """Assert ``got`` equals ``want`` within tolerance; teach on failure.

    Parameters
    ----------
    got, want : float, Series or DataFrame
        The (already coerced and aligned) answer and the reference.
    name : str
        The variable name the question asked for.
    what : str
        What the reference is computed on, e.g. "KO's daily excess returns".
    mistakes : iterable of Mistake
        Common-mistake variants to recognise when the answer is wrong.
    checklist : str
        Fallback advice when no known mistake matches.
    """
    if atol is None:
        atol = _default_atol(want)
    if _close(got, want, rtol, atol):
        return
    message = f"{name} does not match the reference computed on {what} (relative tolerance {rtol:g})."
    if isinstance(want, (pd.Series, pd.DataFrame)):
        bad = ~np.isclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, atol=atol)
        message += f" {int(bad.sum())} of {bad.size} entries differ."
    found = matching_mistake(got, mistakes, rtol)
    if found:
        message += f" This matches {found}."
    elif checklist:
        message += f" Check: {checklist}"
    raise AssertionError(message)


def percent(value: Any) -> Any:
    """The value in percent (a decimal answer times 100)."""
    return value * 100
