"""The trusted half of grading: judge answers that arrive as plain data.

The student's code never runs here. What arrives from the box is JSON with
numbers, strings, labels and ``.npy`` bytes (:func:`autograder.sandbox_runner.encode`);
:func:`decode` rebuilds plain floats, strings, lists, numpy arrays and
pandas Series/DataFrames from it (``np.load(..., allow_pickle=False)``,
numeric dtypes only), so no object of the student's (a subclass, a custom
``__eq__``, a patched library) can reach the checks.

:func:`judge_question` then runs the question's hidden tests, taken from
the course's source notebook (trusted), on those values. Each top-level
``checks....(...)`` call of a hidden-test block is one *item* of the
question: items pass or fail on their own (partial credit), and share the
question's points equally unless a call's line ends with a comment such as
``# 1 point``. A question whose items all pass earns all its points, as in
``nbgrader autograde``; a blank one earns none.

"Show it" questions are judged by recomputing the property from the
student's own exported data inside the checks (``checks._core`` gets the
names the student typed in as bare numbers via :func:`typed_in_names`, and
such answers earn nothing where the question asks to show something).
"""

from __future__ import annotations

import ast
import base64
import binascii
import builtins
import io
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .text import clean_str

MAX_ELEMENTS = 5_000_000
MAX_STR = 10_000
#: Longest message of one item (a check may quote the student's input).
MAX_MESSAGE = 600
_POINTS = re.compile(r"#\s*([0-9]+(?:\.[0-9]+)?)\s*points?\b")


class Opaque:
    """Stands for an answer that could not be rebuilt as plain data."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self):
        return f"<{type(self).__name__}: {self.why}>"


def _opaque(type_name: str, why: str) -> Opaque:
    safe = re.sub(r"[^A-Za-z0-9_]", "", str(type_name))[:60] or "object"
    cls = type(safe, (Opaque,), {})
    return cls(why)


class Missing(Exception):
    """A name the hidden tests need is not defined in the student's notebook."""


# ---- decoding ---------------------------------------------------------------------
def _array(npy) -> np.ndarray | None:
    if not isinstance(npy, str):
        return None
    try:
        raw = base64.b64decode(npy, validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (binascii.Error, ValueError, OSError, EOFError):
        return None
    if array.dtype.kind not in "biuf" or array.size > MAX_ELEMENTS or array.ndim > 2:
        return None
    return array


def _index(encoded):
    if not isinstance(encoded, dict):
        return None
    if encoded.get("kind") == "datetime":
        array = _array(encoded.get("npy"))
        if array is None or array.dtype.kind not in "iu" or array.ndim != 1:
            return None
        return pd.DatetimeIndex(array.astype("int64").astype("datetime64[ns]"))
    if encoded.get("kind") == "labels" and isinstance(encoded.get("items"), list):
        items = encoded["items"]
        if not all(isinstance(x, (str, int, float, bool)) or x is None for x in items):
            return None
        return pd.Index([clean_str(x) if isinstance(x, str) else x for x in items])
    return None


def decode(encoded):
    """Rebuild one answer from its plain-data form (an Opaque if malformed).

    Raises :class:`Missing` for an answer that was not defined; anything a
    forged export can provoke (numbers too large for a float, nesting too
    deep, huge strings) gives an Opaque or a capped value, never an error.
    """
    try:
        return _decode(encoded)
    except Missing:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError, KeyError, AttributeError):
        return _opaque("object", "malformed")


def _decode(encoded):
    if not isinstance(encoded, dict):
        return _opaque("object", "malformed")
    kind = encoded.get("kind")
    if kind == "missing":
        raise Missing()
    if kind == "none":
        return None
    if kind == "bool":
        return bool(encoded.get("value"))
    if kind == "str":
        value = encoded.get("value")
        return clean_str(value[:MAX_STR]) if isinstance(value, str) else _opaque("str", "malformed")
    if kind == "number":
        value = encoded.get("value")
        if isinstance(value, str) and value in ("nan", "inf", "-inf"):
            return float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            if encoded.get("integer") is True and math.isfinite(value) and value == int(value):
                return int(value)
            return value
        return _opaque("number", "malformed")
    if kind == "array":
        array = _array(encoded.get("npy"))
        return array if array is not None else _opaque("ndarray", "not numeric")
    if kind in ("series", "frame"):
        values = _array(encoded.get("npy"))
        index = _index(encoded.get("index"))
        type_name = "Series" if kind == "series" else "DataFrame"
        if values is None or index is None:
            return _opaque(type_name, "not numeric")
        try:
            if kind == "series":
                name = encoded.get("name")
                if not (isinstance(name, (str, int, float)) or name is None):
                    name = None
                if values.ndim != 1:
                    return _opaque(type_name, "malformed")
                return pd.Series(values, index=index, name=name)
            columns = _index(encoded.get("columns"))
            if columns is None or values.ndim != 2:
                return _opaque(type_name, "malformed")
            return pd.DataFrame(values, index=index, columns=columns)
        except (ValueError, TypeError):
            return _opaque(type_name, "malformed")
    if kind == "list":
        items = encoded.get("items")
        if not isinstance(items, list):
            return _opaque("list", "malformed")
        out = []
        for item in items:
            try:
                out.append(decode(item))
            except Missing:
                out.append(_opaque("object", "malformed"))
        return tuple(out) if encoded.get("type") == "tuple" else out
    if kind == "dict":
        items = encoded.get("items")
        if not isinstance(items, list):
            return _opaque("dict", "malformed")
        out = {}
        for pair in items:
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
                try:
                    out[pair[0]] = decode(pair[1])
                except Missing:
                    pass
        return out
    return _opaque(encoded.get("type") or "object", str(kind))


# ---- what the hidden tests need ------------------------------------------------------
def hidden_block(source: str, begin="BEGIN HIDDEN TESTS", end="END HIDDEN TESTS") -> str:
    """The lines between the hidden-test delimiters of a test cell's source."""
    lines, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def needed_names(code: str) -> tuple:
    """Names the hidden tests read from the student's namespace, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ()
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".", 1)[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.id not in bound and not hasattr(builtins, node.id) and node.id not in out:
            out.append(node.id)
    return tuple(out)


def typed_in_names(sources) -> set:
    """Names whose last assignment in the student's code is a typed-in value.

    ``hedged_beta = 0``, ``x = -1e-17``, ``n = 2 * 5 + 1``, ``v = float(0.1)``,
    ``share = VBAR`` (a course constant the student did not compute), or a
    dict/list/tuple of such values (``counts = {"factor_model": 11}``): a
    typed-in value, which earns nothing where a question asks to *show* a
    property by computing it.
    """
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(_python_only(source)))
        except SyntaxError:
            continue
    assigned = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
    last: dict[str, bool] = {}
    for tree in trees:
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, ast.AugAssign):
                targets, value = [node.target], None
            for target in targets:
                if isinstance(target, ast.Name):
                    last[target.id] = value is not None and _constant(value, assigned)
    return {name for name, typed in last.items() if typed}


def _constant(node, assigned=frozenset()) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return node.id not in assigned and not hasattr(builtins, node.id)  # a course constant such as VBAR
    if isinstance(node, ast.UnaryOp):
        return _constant(node.operand, assigned)
    if isinstance(node, ast.BinOp):
        return _constant(node.left, assigned) and _constant(node.right, assigned)
    if isinstance(node, (ast.Dict, ast.List, ast.Tuple)):
        values = node.values if isinstance(node, ast.Dict) else node.elts
        return bool(values) and all(_constant(v, assigned) for v in values)
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in ("float", "int", "float64", "float32", "round", "abs") and _constant(node.args[0], assigned)
    return False


def _python_only(source: str) -> str:
    """IPython magics and shell escapes blanked out, for ``ast.parse``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!", "?")) else line for line in source.split("\n"))


# ---- judging ----------------------------------------------------------------------------
@dataclass
class Verdict:
    points: float
    status: str      # passed | failed | error
    message: str
    mistakes: tuple = ()  # the named mistakes the wrong items matched


def _items(code: str):
    """Split hidden code into (setup statements, [(item source, weight)])."""
    tree = ast.parse(code)
    lines = code.split("\n")
    setup, items = [], []
    for node in tree.body:
        text = "\n".join(lines[node.lineno - 1:node.end_lineno])
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            match = _POINTS.search(lines[node.end_lineno - 1])
            items.append((text, float(match.group(1)) if match else None))
        else:
            setup.append(text)
    if not items:
        items = [("\n".join(setup), None)]
        setup = []
    return "\n".join(setup), items


def judge_question(code: str, exports: dict | None, max_points: float, *, label: str,
                   answer_error: str | None = None, typed_in=frozenset(), variants=None) -> Verdict:
    """Run one question's hidden tests on the student's exported answers.

    Parameters
    ----------
    code : str
        The hidden-test block from the source notebook.
    exports : dict or None
        name -> encoded value, as exported before the test cell ran (None
        when the box never reached the question).
    max_points : float
    label : str
        How to name the question in messages ("question 3").
    answer_error : str, optional
        The exception the student's own answer cell raised, if it did.
    typed_in : set of str
        Names the student assigned a bare number to.
    variants : dict, optional
        ``{"seed": class seed or None, "student": id or None}``: whose
        parameters the checks grade on (:mod:`autograder.variants`); default
        the assignment's defaults.
    """
    from .checks import _core

    if exports is None:
        return Verdict(0.0, "error", f"not graded: the notebook stopped before {label}")
    namespace = {"__builtins__": builtins}
    missing = []
    for name in needed_names(code):
        if name not in exports:
            continue
        try:
            namespace[name] = decode(exports[name])
        except Missing:
            missing.append(name)
    setup, items = _items(code)
    weights = [w for _, w in items]
    if any(w is None for w in weights):
        weights = [max_points / len(items)] * len(items)
    scale = max_points / sum(weights) if sum(weights) else 0.0
    found: list = []
    token = _core.JUDGE_CONTEXT.set({"typed_in": frozenset(typed_in), "mistakes": found,
                                     "variants": dict(variants or {"seed": None, "student": None})})
    try:
        try:
            exec(compile(setup, f"<hidden tests of {label}>", "exec"), namespace)
        except Exception as exc:  # the course's own code failed: a grader bug
            return Verdict(0.0, "error", f"grader error in the tests of {label}: {type(exc).__name__}: {exc}")
        points, messages, statuses, undefined = 0.0, [], [], []
        for (text, _), weight in zip(items, weights):
            try:
                exec(compile(text, f"<hidden tests of {label}>", "exec"), namespace)
            except AssertionError as exc:
                statuses.append("failed")
                text = clean_str(str(exc).strip()) or "a check failed"
                messages.append(text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "...")
            except NameError as exc:
                name = getattr(exc, "name", None) or str(exc)
                statuses.append("error")
                if answer_error:
                    messages.append(f"your answer cell for {label} raised {answer_error}")
                elif name in missing or name in needed_names(code):
                    undefined.append(name)
                else:
                    messages.append(f"grader error: {exc}")
            except Exception as exc:
                statuses.append("failed")
                messages.append(f"could not be checked ({type(exc).__name__}); "
                                "give the answer in the form the question asks for")
            else:
                points += weight * scale
                statuses.append("passed")
    finally:
        _core.JUDGE_CONTEXT.reset(token)
    points = round(points, 6)
    if undefined:
        names = ", ".join(f"`{n}`" for n in dict.fromkeys(undefined))
        messages.append(f"not answered yet: {names} {'is' if len(set(undefined)) == 1 else 'are'} not defined")
    messages = list(dict.fromkeys(messages))
    if all(s == "passed" for s in statuses):
        return Verdict(float(max_points), "passed", "")
    status = "error" if all(s == "error" for s in statuses) else "failed"
    return Verdict(points, status, " ".join(messages), tuple(dict.fromkeys(found)))
