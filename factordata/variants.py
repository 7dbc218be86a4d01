"""Each student's own parameters for an assignment (per-student variants).

nbgrader gives every student the same notebook (it has no per-student
randomization, nbgrader issue #1153). An instructor who wants copied numbers
to fail turns variants on (``c.Autograder.variants`` in the course's
``nbgrader_config.py``); each student then gets a sample window, a budget or
a risk-share limit of their own, derived from the class seed and their
student id. The released notebook calls :func:`assignment_parameters` with
the id the student types in; the grader calls :func:`derive` with the id of
the submission, and computes its reference on the same parameters.

Without a class seed (self-study, or variants off) every student gets the
defaults, which are the numbers the assignments' text uses.

This module lives in ``factordata`` because it is the one package of the
course that the student's notebook and the grading box both see.

Examples
--------
>>> import factordata
>>> factordata.variants.derive("risk-budgets", "anyone")["budget"]
100000
>>> p = factordata.variants.derive("risk-budgets", "s1234", class_seed="fm-2026")
>>> p == factordata.variants.derive("risk-budgets", "S1234 ", class_seed="fm-2026")
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

__all__ = ["DEFAULTS", "WINDOW_YEARS", "assignment_parameters", "derive", "describe", "normalize_id"]

#: Default parameters of each assignment that has variants: the values the
#: assignment's text uses. ``start``/``end`` are calendar years of the daily
#: sample (both included; the default is every day, 1990-01-03 to 2017-03-29).
DEFAULTS = {
    "alpha-beta": {"start": "1990", "end": "2017"},
    "hedging": {"start": "1990", "end": "2017", "notional": 1_000_000},
    "risk-budgets": {"start": "1990", "end": "2017", "budget": 100_000},
    "variance-shares": {"vbar": 0.1},
}

#: Years a drawn window may cover: whole calendar years from 1990 to 2016
#: (2017 holds three months only). At least 8 years (about 2,000 trading
#: days), so that betas, residual variances and t-statistics are estimated
#: with some precision; at most 15, so that windows differ.
FIRST_YEAR, LAST_YEAR = 1990, 2016
WINDOW_YEARS = range(8, 16)

#: Position sizes for hedging's long-short trade, dollars.
NOTIONALS = tuple(range(500_000, 5_000_001, 250_000))
#: Volatility budgets for risk-budgets, dollars of standard deviation.
BUDGETS = tuple(range(50_000, 500_001, 10_000))
#: Limits on the factor risk share for variance-shares. Every bundled stock's
#: factor share exceeds 0.11 in the full sample and in both periods the
#: assignment compares (the lowest, 0.118, is 2005-2006), so every hedge is a
#: real short and every share can be brought down to the limit.
VBARS = (0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11)

_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


def normalize_id(student_id) -> str:
    """The student id as the grader compares it.

    Accents dropped, lower case, every run of characters other than letters,
    digits, ``_``, ``.`` and ``-`` made one ``_``, and ``._-`` stripped at
    both ends: the rule ``autograder collect`` uses for submission folders
    (plus lower case), so ``"Anna Müller"`` typed in the notebook and the
    folder ``Anna_Muller`` are the same student.

    Parameters
    ----------
    student_id : str

    Returns
    -------
    str
    """
    text = unicodedata.normalize("NFKD", str(student_id))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _UNSAFE.sub("_", text).strip("._-")


def _draws(class_seed: str, assignment: str, student_id: str):
    """Endless uniform draws in [0, 1) keyed by (class seed, assignment, student).

    HMAC-SHA256 rather than Python's ``hash()`` (salted per process) or a
    ``random.Random`` seeded with a string (its algorithm is an
    implementation detail): the same inputs give the same parameters on every
    machine and Python version, and without the class seed nobody can tell
    which parameters an id gets.
    """
    key = str(class_seed).encode("utf-8")
    counter = 0
    while True:
        msg = f"{assignment}\n{normalize_id(student_id)}\n{counter}".encode("utf-8")
        digest = hmac.new(key, msg, hashlib.sha256).digest()
        for k in range(0, 32, 8):
            yield int.from_bytes(digest[k:k + 8], "big") / 2.0**64
        counter += 1


def _pick(u: float, choices):
    return choices[min(int(u * len(choices)), len(choices) - 1)]


def derive(assignment: str, student_id, class_seed: str | None = None) -> dict:
    """One student's parameters for one assignment (pure, deterministic).

    Parameters
    ----------
    assignment : str
        One of :data:`DEFAULTS` (other assignments have no parameters: ``{}``).
    student_id : str
        The student's id; compared after :func:`normalize_id`.
    class_seed : str, optional
        The instructor's class seed. None or empty: the defaults.

    Returns
    -------
    dict
        Only the values (no student id): ``start``/``end`` (calendar years,
        strings, for ``.loc[start:end]``), ``notional`` or ``budget``
        (whole dollars), ``vbar`` (a decimal).

    Raises
    ------
    ValueError
        If variants are on (a class seed) and the student id is empty.
    """
    defaults = dict(DEFAULTS.get(assignment, {}))
    if not class_seed or not defaults:
        return defaults
    if not normalize_id(student_id):
        raise ValueError("set STUDENT_ID to your student id (as your instructor spells it) and run the cell again")
    u = _draws(class_seed, assignment, student_id)
    out = {}
    if "start" in defaults:
        start = _pick(next(u), range(FIRST_YEAR, LAST_YEAR - WINDOW_YEARS[0] + 2))
        years = _pick(next(u), [n for n in WINDOW_YEARS if start + n - 1 <= LAST_YEAR])
        out["start"], out["end"] = str(start), str(start + years - 1)
    if "notional" in defaults:
        out["notional"] = _pick(next(u), NOTIONALS)
    if "budget" in defaults:
        out["budget"] = _pick(next(u), BUDGETS)
    if "vbar" in defaults:
        out["vbar"] = _pick(next(u), VBARS)
    return out


def describe(params: dict) -> str:
    """The parameters in words, as the notebook prints them."""
    parts = []
    if "start" in params:
        parts.append(f"sample window {params['start']}-{params['end']} "
                     f"(excess.loc[P['start']:P['end']])")
    if "notional" in params:
        parts.append(f"position NOTIONAL = ${params['notional']:,}")
    if "budget" in params:
        parts.append(f"volatility budget BUDGET = ${params['budget']:,}")
    if "vbar" in params:
        parts.append(f"risk-share limit VBAR = {params['vbar']:.2f}")
    return "; ".join(parts) or "none"


def assignment_parameters(assignment: str, student_id="", class_seed: str | None = None,
                          show: bool = True) -> dict:
    """Your parameters for an assignment: print them and return them as ``P``.

    The released notebook calls this once, with the id you type in
    (``P = factordata.assignment_parameters("risk-budgets", STUDENT_ID)``);
    the rest of the notebook reads ``P["start"]``, ``P["budget"]`` and so
    on. Your instructor's release adds the class seed to that line; without
    one you get the defaults of the assignment's text.

    Parameters
    ----------
    assignment : str
        The assignment's name, e.g. ``"risk-budgets"``.
    student_id : str
        Your student id, exactly as your instructor's list spells it (case,
        accents and spaces do not matter). Ignored without a class seed.
    class_seed : str, optional
        Written into the released notebook by ``autograder release`` when
        your instructor turned variants on; leave it as it is.
    show : bool
        Print the parameters (default).

    Returns
    -------
    dict
        ``{"student_id": ..., **values}``: a plain dict, so that the grader
        can read which parameters the notebook used.

    Raises
    ------
    ValueError
        Variants on and no student id, or an assignment without parameters.
    """
    if assignment not in DEFAULTS:
        raise ValueError(f"assignment must be one of {sorted(DEFAULTS)}, got {assignment!r}")
    values = derive(assignment, student_id, class_seed)
    if show:
        whose = (f"student {normalize_id(student_id)}" if class_seed
                 else "the defaults of the text (no class seed: self-study)")
        print(f"Parameters of {assignment} for {whose}: {describe(values)}")
    return {"student_id": str(student_id), **values}
