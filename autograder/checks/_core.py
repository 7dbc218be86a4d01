"""Comparison helpers shared by the assignment checks.

Every public check in ``autograder.checks`` follows the same steps:

1. coerce the student's answer to the expected kind (number, Series,
   DataFrame) or fail with a message naming the variable and what it got;
2. compare with the reference computed by ``solutions`` on the student's own
   choices, with an explicit tolerance (:data:`RTOL`), or, for a rounded
   answer, with the course's rounding policy (:class:`Precision`);
3. error carried forward (:class:`Carried`): when the answer is computed
   from an earlier answer of the student's that is wrong, an answer that
   follows correctly from it passes;
4. on a mismatch, name the common mistake it matches (a :class:`Mistake`
   variant, or a :class:`Finder` such as the sub-sample finder), else give
   the question's checklist.

Messages put the hint first ("beta is wrong. This matches ..."), then a
short note on what was compared; they never contain the reference value
(nor a ratio or direction that would give it away).

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


@dataclass(frozen=True)
class Finder:
    """A family of mistakes recognised by a function: ``find(got)`` returns the
    description of the variant ``got`` matches (e.g. which sub-sample), or None."""

    find: Any
    #: How the class summary counts this family (one line for every window...).
    summary: str = ""


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
    if isinstance(want, pd.DatetimeIndex) and isinstance(got, pd.DatetimeIndex) and len(got) < len(want) \
            and got.isin(want).all():
        raise AssertionError(
            f"{name} covers {len(got)} of the {len(want)} dates: this matches a sub-sample instead of the "
            "full sample; use every date of the daily data.")
    if isinstance(want, pd.DatetimeIndex) and isinstance(got, pd.DatetimeIndex) and len(got) > len(want) \
            and want.isin(got).all():
        raise AssertionError(
            f"{name} covers {len(got)} dates, {len(want)} of them in your sample: use only the dates of your "
            "sample window (P['start'] to P['end']).")
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
        if isinstance(mistake, Finder):
            try:
                found = mistake.find(got)
            except Exception:
                found = None
            if found:
                note_mistake(mistake.summary or found)
                return found
            continue
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


@dataclass(frozen=True)
class Precision:
    """How coarsely a person may round an answer and still be right.

    ``decimals``: the answer may be rounded to this many decimals (or more):
    0 for dollars, 2 for Sharpe ratios and t-statistics, 4 for betas,
    shares and hedges. ``digits``: the answer may be rounded to this many
    significant digits (or more), for small decimals such as daily
    variances, where a fixed number of decimals means nothing.
    """

    decimals: int | None = None
    digits: int | None = None

    def describe(self) -> str:
        if self.decimals is not None:
            return "whole dollars" if self.decimals == 0 else f"{self.decimals} decimals"
        return f"{self.digits} significant digits"


#: The course's rounding policy (stated in every assignment's rules).
DOLLARS = Precision(decimals=0)
RATIO = Precision(decimals=2)        # Sharpe ratios, t-statistics
COEF = Precision(decimals=4)         # betas, R-squared, shares, hedges, correlations
SMALL = Precision(digits=6)          # daily returns, variances, volatilities, annual rates


def _decimals_given(x: float) -> int | None:
    """The number of decimals ``x`` was rounded to (negative: tens, hundreds), or
    None when it is not a rounded number (its shortest repr needs 15+ digits)."""
    from decimal import Decimal

    if x == 0 or not math.isfinite(x):
        return None
    dec = Decimal(repr(float(x))).normalize()
    if len(dec.as_tuple().digits) >= 15:
        return None
    return -dec.as_tuple().exponent


def _half_unit(precision: Precision, reference: float) -> float:
    if precision.decimals is not None:
        return 0.5 * 10.0 ** -precision.decimals
    if reference == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(reference))) - precision.digits + 1)


def _rounding(got: Any, want: Any, precision: Precision | None) -> tuple[str, int | None] | None:
    """Judge a rounded answer against the rounding policy.

    ("ok", None) when every entry that differs from the reference is a
    rounded number (finitely many decimals) within half a unit of the
    required precision of it; ("coarse", d) when the answer is the reference
    rounded to d decimals, coarser than the policy allows; None otherwise.
    """
    if precision is None:
        return None
    a = np.asarray(got, dtype=float).ravel()
    b = np.asarray(want, dtype=float).ravel()
    if a.shape != b.shape or a.size == 0 or not np.all(np.isfinite(a)):
        return None
    ok, coarse, coarsest = True, True, None
    for x, y in zip(a, b):
        if math.isclose(x, y, rel_tol=RTOL, abs_tol=1e-14):
            continue
        d = _decimals_given(float(x))
        if d is None:
            return None
        slack = 1e-9 * max(abs(y), 1e-300)
        if abs(x - y) > _half_unit(precision, y) + slack:
            ok = False
        if abs(x - y) > 0.5 * 10.0**-d + slack:
            coarse = False
        coarsest = d if coarsest is None else min(coarsest, d)
    if coarsest is None or ok:
        return ("ok", None) if ok else None
    return ("coarse", coarsest) if coarse else None


@dataclass(frozen=True)
class Carried:
    """An earlier answer this one is computed from (error carried forward).

    Parameters
    ----------
    question : str
        Where the earlier answer is asked, e.g. "question 1".
    name : str
        The earlier answer's variable name, e.g. "beta".
    wrong : bool
        Whether the student's earlier answer differs from its reference
        (only then does it change anything): see :func:`differs`.
    value : callable
        Returns this answer recomputed from the student's earlier answer
        (or None when it cannot be); evaluated only when needed.
    mistakes : callable, optional
        Returns common-mistake variants recomputed from the student's
        earlier answer.
    """

    question: str
    name: str
    wrong: bool
    value: Any
    mistakes: Any = None


def _evaluate(value):
    try:
        return value() if callable(value) else value
    except Exception:  # a malformed earlier answer: nothing to carry forward
        return None


def _same(got: Any, value: Any, rtol: float) -> bool:
    value = _align_like(value, got)
    try:
        if value is None or np.shape(value) != np.shape(got) \
                or not np.all(np.isfinite(np.asarray(value, dtype=float))):
            return False
    except (TypeError, ValueError):
        return False
    return _close(got, value, rtol, _default_atol(value))


def note_mistake(description: str) -> None:
    """Tell the judge which named mistake an answer matched (for the class summary)."""
    found = JUDGE_CONTEXT.get().get("mistakes")
    if isinstance(found, list):
        found.append(description)


def compare(got: Any, want: Any, name: str, *, what: str, rtol: float = RTOL,
            atol: float | None = None, mistakes: Iterable[Mistake] = (),
            checklist: str = "", precision: Precision | None = None,
            carried: Iterable[Carried] = ()) -> None:
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
    precision : Precision, optional
        The coarsest rounding a person would report this answer with; an
        answer that is the reference rounded at least that finely passes.
    carried : iterable of Carried
        Earlier answers this one is computed from. When one is wrong and
        this answer is what follows from it, this answer passes (error
        carried forward).

    The message puts the hint first: "<name> is wrong. This matches ...",
    or "<name> is wrong. Check: ...", then a short note on what was compared.
    """
    if atol is None:
        atol = _default_atol(want)
    if _close(got, want, rtol, atol):
        return
    rounded = _rounding(got, want, precision)
    if rounded and rounded[0] == "ok":
        return
    carried = list(carried)
    wrong_earlier = [c for c in carried if c.wrong]
    for c in wrong_earlier:
        if _same(got, _evaluate(c.value), rtol):
            return
    hint = None
    if rounded:  # the right value, rounded too coarsely
        hint = (f"It is the right value rounded to {_rounded_text(rounded[1])}, coarser than allowed: "
                f"keep at least {precision.describe()} (or do not round; round only when printing).")
    if hint is None:
        for c in wrong_earlier:
            found = matching_mistake(got, _evaluate(c.mistakes) or (), rtol)
            if found:
                hint = f"This matches {found}, applied to your {c.name} (this follows from your answer to {c.question})."
                break
    if hint is None:
        mistakes = list(mistakes)
        found = matching_mistake(got, mistakes, rtol) or _rounded_mistake(got, mistakes, precision)
        if found:
            hint = f"This matches {found}."
    if hint is None:
        hint = f"Check: {checklist}" if checklist else "Check the question's definition."
        if wrong_earlier:
            names = ", ".join(f"{c.name} ({c.question})" for c in wrong_earlier)
            hint += f" It is judged on your own {names}, and does not follow from it either."
    message = f"{name} is wrong. {hint} (Compared with the reference on {what}"
    if isinstance(want, (pd.Series, pd.DataFrame)):
        bad = ~np.isclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, atol=atol)
        message += f"; {int(bad.sum())} of {bad.size} entries differ"
    raise AssertionError(message + ".)")


def _rounded_mistake(got: Any, mistakes: list, precision: Precision | None) -> str | None:
    """A mistake variant a rounded answer matches under the rounding policy."""
    if precision is None:
        return None
    for mistake in mistakes:
        if isinstance(mistake, Finder):
            continue
        value = _evaluate(mistake.value)
        value = _align_like(value, got) if value is not None else None
        try:
            if value is None or np.shape(value) != np.shape(got):
                continue
            verdict = _rounding(got, value, precision)
        except (TypeError, ValueError):
            continue
        if verdict and verdict[0] == "ok":
            note_mistake(mistake.description)
            return f"{mistake.description} (rounded)"
    return None


def _rounded_text(d: int) -> str:
    if d > 0:
        return f"{d} decimal{'s' if d > 1 else ''}"
    if d == 0:
        return "whole units"
    return f"multiples of {10 ** -d:,}"


def differs(value: Any, reference: Any) -> bool:
    """Whether a student's earlier answer differs from its reference (None: not given).

    Used to decide whether to judge a later answer on the student's own
    earlier one (error carried forward). Anything that is not the reference
    within the default tolerance counts, a rounded value included.
    """
    if value is None:
        return False
    try:
        if isinstance(reference, (pd.Series, pd.DataFrame)):
            if not isinstance(value, type(reference)):
                return True
            value = _align_like(value, reference)
            if value.isna().to_numpy().any():
                return True
        elif isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return True
        return not _close(value, reference, RTOL, _default_atol(reference))
    except Exception:
        return True


def number_or_none(value: Any) -> float | None:
    """A student's earlier scalar answer as a float, or None when unusable."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
        return float(value)
    return None


def percent(value: Any) -> Any:
    """The value in percent (a decimal answer times 100)."""
    return value * 100
