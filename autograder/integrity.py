"""Static notes for the instructor: what a submission's code tried.

This is not the defence. The defence is the design: the student's code runs
in a box where the reference module, the autograder's checks, the course's
notebooks and the gradebook do not exist (:mod:`autograder.sandbox`), and
its answers are judged outside the box on plain data
(:mod:`autograder.judge`). Patching numpy or the checks inside the box can
only change the student's own numbers.

:func:`static_scan` reads the syntax tree of the student's cells (nothing
runs) and returns one-line notes for ``grades.csv`` and the feedback, so an
instructor can review a notebook that tried to import ``solutions``, read
the course's notebooks or patch libraries. A notebook that imports
``solutions`` is flagged and gets no points for the questions after it:
the course's rules forbid it, whatever the box lets it do.
"""

from __future__ import annotations

import ast

__all__ = ["static_scan", "FORBIDDEN"]

#: The reference module a submission must not import.
REFERENCE_MODULE = "solutions"
#: Notes that cost points (the rest are for the instructor's review only).
FORBIDDEN = ("imported the reference module `solutions`",)

_ALIASES = {"np": "numpy", "numpy": "numpy", "pd": "pandas", "pandas": "pandas",
            "sm": "statsmodels", "statsmodels": "statsmodels", "solutions": "solutions",
            "factordata": "factordata", "autograder": "autograder", "checks": "autograder",
            "integrity": "autograder", "builtins": "builtins", "math": "math"}
_ALLOWED_SETTINGS = {"options", "rcParams", "random"}


def _python_source(source: str) -> str:
    """Cell source with IPython syntax (magics, ``!cmd``) made plain Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or odd input: scan the raw text
        return source


def _root_and_chain(node):
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, list(reversed(chain))
    return None, list(reversed(chain))


def static_scan(source: str) -> list[str]:
    """Reasons to flag one cell of student code (empty list: nothing found).

    Parameters
    ----------
    source : str
        The cell's source (IPython syntax allowed).

    Returns
    -------
    list of str
        One-line reasons, e.g. "imports the reference module `solutions`".

    Examples
    --------
    >>> static_scan("import solutions as s")
    ['imported the reference module `solutions`']
    >>> static_scan("import numpy as np\\nx = np.mean([1, 2])")
    []
    """
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return []
    aliases = dict(_ALIASES)
    reasons: list[str] = []

    def add(reason):
        if reason not in reasons:
            reasons.append(reason)

    mentions_autograder = any(
        (isinstance(n, ast.Name) and n.id in ("autograder", "checks"))
        or (isinstance(n, (ast.Import, ast.ImportFrom))
            and any("autograder" in (a.name or "") for a in n.names) or "autograder" in (getattr(n, "module", "") or ""))
        for n in ast.walk(tree))
    for node in ast.walk(tree):
        if mentions_autograder and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("setattr", "delattr"):
            add("modified protected library code (setattr on the autograder)")
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".", 1)[0]
                if root == REFERENCE_MODULE:
                    add("imported the reference module `solutions`")
                if alias.name.startswith("autograder.integrity"):
                    add("touched the autograder's integrity check")
                if root in _ALIASES.values() or root in ("numpy", "pandas", "statsmodels"):
                    aliases[(alias.asname or alias.name).split(".", 1)[0]] = root
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".", 1)[0] == REFERENCE_MODULE or any(
                    a.name == REFERENCE_MODULE for a in node.names):
                add("imported the reference module `solutions`")
            if module.startswith("autograder") and any(a.name == "integrity" for a in node.names) \
                    or module.startswith("autograder.integrity"):
                add("touched the autograder's integrity check")
            root = module.split(".", 1)[0]
            if root in ("numpy", "pandas", "statsmodels", "autograder", "factordata"):
                for a in node.names:
                    aliases[a.asname or a.name] = root
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text == REFERENCE_MODULE or text.startswith(REFERENCE_MODULE + "."):
                add("imported the reference module `solutions`")
            if (".ipynb" in text and ("source" in text or "release" in text)) \
                    or "exercises/source" in text or "exercises/release" in text:
                add("read the course's source or release notebooks")
        elif isinstance(node, ast.Attribute):
            if node.attr == REFERENCE_MODULE:
                add("imported the reference module `solutions`")
            if node.attr in ("__code__", "__defaults__", "__kwdefaults__") and isinstance(node.ctx, ast.Store):
                add("modified protected library code (replaced a function's code)")
        elif isinstance(node, ast.Name) and node.id == "integrity":
            add("touched the autograder's integrity check")
        if (isinstance(node, ast.Attribute) and node.attr == "solutions_module") or (
                isinstance(node, ast.Name) and node.id == "solutions_module"):
            add("imported the reference module `solutions`")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder") and (
                "._" in (node.module or "") or any(a.name.startswith("_") for a in node.names)):
            add("used the autograder's internals")
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    root, chain = _root_and_chain(sub)
                    if root in aliases and len(chain) <= 3 and not (set(chain[:1]) & _ALLOWED_SETTINGS):
                        add(f"modified protected library code ({root}.{'.'.join(chain)})")
                if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    root, chain = _root_and_chain(sub.value)
                    if root == "sys" and chain == ["modules"]:
                        add("modified protected library code (sys.modules)")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in ("setattr", "delattr") and node.args:
                root, chain = _root_and_chain(node.args[0])
                if root in aliases and not (set(chain[:1]) & _ALLOWED_SETTINGS):
                    add(f"modified protected library code ({name} on {root}{'.' if chain else ''}{'.'.join(chain)})")
    return reasons
