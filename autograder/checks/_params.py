"""Which parameters a check grades on: per-student variants.

With variants on, each student's notebook works on parameters of their own
(a sample window, a budget, a risk-share limit: :mod:`factordata.variants`),
printed and returned by the notebook's line
``P = factordata.assignment_parameters(<assignment>, STUDENT_ID)``. Hidden
tests pass that ``P`` to each check (``params=_P``); the check then

1. works out the parameters it must grade on: in the trusted judge, those of
   the *submission's* student id (``autograder grade``: the submission
   folder; ``autograder check``: the id typed in, as self-check knows no
   other identity) and the class seed, from ``JUDGE_CONTEXT["variants"]``;
   in stock ``nbgrader autograde`` (the student's kernel, no judge) the
   notebook's own ``P``; the defaults when there is no ``P``;
2. fails the item when the notebook's ``P`` is not the student's own (a
   classmate's id typed in, a classmate's notebook handed in, values edited),
   with a message that says so and nothing else;
3. computes the reference on those parameters: :func:`window` for
   :mod:`._data`, :func:`value` for budgets and limits.

The parameters are held in a context variable for the duration of one check
call, so nothing carries over from one submission to the next in a batch.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math

from factordata import variants as _variants

from ._core import JUDGE_CONTEXT, note_mistake

#: The parameters of the check call in progress (None outside one).
ACTIVE: contextvars.ContextVar = contextvars.ContextVar("active_parameters", default=None)

OTHER_STUDENT = ("This answer was computed with parameters that are not yours: the notebook's P belongs to "
                 "another student id, or was changed. Set STUDENT_ID to your own id, run the parameters cell "
                 "again and recompute; answers on another student's parameters earn nothing.")
NO_ID = ("Your instructor gave each student their own parameters: set STUDENT_ID to your student id, run the "
         "parameters cell again and recompute.")


def _same(a, b) -> bool:
    if isinstance(b, str):
        return isinstance(a, str) and a.strip() == b
    if isinstance(a, (bool, str)) or not isinstance(a, (int, float)):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def _own_values(assignment: str, params) -> dict:
    """The notebook's P, where stock nbgrader runs the checks in the student's kernel."""
    defaults = _variants.DEFAULTS.get(assignment, {})
    if not isinstance(params, dict):
        return dict(defaults)
    out = {}
    for key, default in defaults.items():
        got = params.get(key)
        ok = isinstance(got, str) if isinstance(default, str) else \
            isinstance(got, (int, float)) and not isinstance(got, bool) and math.isfinite(got) and got > 0
        out[key] = got if ok else default
    return out


def resolve(assignment: str, params) -> dict:
    """The parameters to grade ``assignment`` on (see the module docstring).

    Raises
    ------
    AssertionError
        When the notebook's ``params`` are not the graded student's own.
    """
    ctx = JUDGE_CONTEXT.get().get("variants")
    if ctx is None:
        return _own_values(assignment, params)
    seed, student = ctx.get("seed"), ctx.get("student")
    typed = params.get("student_id", "") if isinstance(params, dict) else ""
    try:
        want = _variants.derive(assignment, student if student is not None else typed, seed)
    except ValueError:  # variants on and no id to derive from
        raise AssertionError(NO_ID) from None
    if not isinstance(params, dict):
        return want  # no P in the notebook: judged on the student's own parameters
    other = seed and student is not None and _variants.normalize_id(typed) != _variants.normalize_id(student)
    if other or not all(_same(params.get(k), v) for k, v in want.items()):
        note_mistake("another student's parameters (P)")
        raise AssertionError(OTHER_STUDENT)
    return want


def value(name: str):
    """One parameter of the check in progress (``"budget"``, ``"vbar"``, ...)."""
    return ACTIVE.get()[name]


def window() -> tuple:
    """(start, end) of the sample the check in progress grades on.

    (None, None) for the whole sample, which is also what the default
    window (every year of the data) means, so the references and caches
    without variants are exactly those of the course without them.
    """
    params = ACTIVE.get() or {}
    if "start" not in params:
        return None, None
    span = (params["start"], params["end"])
    full = _variants.DEFAULTS["alpha-beta"]
    return (None, None) if span == (full["start"], full["end"]) else span


def key() -> tuple:
    """The parameters in progress, hashable: a cache key for references built on them."""
    return tuple(sorted((ACTIVE.get() or {}).items()))


def cached(fn):
    """``functools.lru_cache`` that also keys on the parameters in progress."""
    inner = functools.lru_cache(maxsize=64)(lambda params, *args: fn(*args))

    @functools.wraps(fn)
    def wrapper(*args):
        return inner(key(), *args)

    wrapper.cache_clear = inner.cache_clear
    return wrapper


def _wrap(assignment: str, fn):
    @functools.wraps(fn)
    def check(*args, params=None, **kwargs):
        if ACTIVE.get() is not None:  # called from another check: keep its parameters
            return fn(*args, **kwargs)
        token = ACTIVE.set(resolve(assignment, params))
        try:
            return fn(*args, **kwargs)
        finally:
            ACTIVE.reset(token)

    check.__doc__ = (fn.__doc__ or "") + (
        "\n\n``params``: the notebook's ``P`` (per-student parameters; see ``checks._params``).")
    return check


def parametrize(namespace: dict, assignment: str) -> None:
    """Give every public check of a module a ``params`` keyword (see the module docstring).

    Call at the end of a check module: ``_params.parametrize(globals(), "hedging")``.
    """
    for name, fn in list(namespace.items()):
        if not name.startswith("_") and inspect.isfunction(fn) and fn.__module__ == namespace["__name__"]:
            namespace[name] = _wrap(assignment, fn)
