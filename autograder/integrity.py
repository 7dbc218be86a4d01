"""Tamper detection: what a submission may not do to earn points.

A submission is flagged, and gets no points for the questions graded after
the offence, when its own code (not the locked test cells, not the
autograder) does any of:

* imports the reference module ``solutions`` (``import solutions``,
  ``from solutions import ...``, ``importlib.import_module``, ``__import__``);
* reads the course's source or release notebooks (any ``open``, listing or
  subprocess on those folders);
* replaces or patches functions or constants of numpy, pandas, statsmodels,
  ``solutions``, ``factordata`` or the autograder (``np.allclose = ...``,
  ``pd.Series.var = ...``, ``checks.RTOL = ...``, ``f.__code__ = ...``,
  swapping ``sys.modules`` entries, rebinding builtins such as ``abs``).

Two layers find these:

1. In the kernel (:func:`install`, run by the grader before the student's
   first cell, invisibly): a snapshot of the identities of every function and
   constant of the protected modules and classes, compared by :func:`verify`;
   and an audit hook (:func:`sys.addaudithook`) that records imports of
   ``solutions`` and opens of protected paths whose nearest caller is a
   notebook cell rather than autograder code. ``solutions`` is kept out of
   ``sys.modules`` while student cells run, so importing it always goes
   through the import machinery and the hook sees it. The checks' own use of
   ``solutions`` happens in frames of ``autograder`` code and is never
   flagged.
2. In the grader, before execution (:func:`static_scan`): a scan of the
   syntax tree of the student's cells for the same things, so a violation is
   found even if the kernel-side check was disabled by the student's code.

Every answer check calls :func:`verify`, which raises :class:`TamperingError`
(an ``AssertionError``, so nbgrader scores the question 0) once anything was
recorded. Outside the grader (a student running their notebook in Jupyter,
unit tests) :func:`verify` only checks that the notebook's namespace holds
nothing from ``solutions``.

Limits: an in-process check cannot stop a determined attacker (``ctypes``,
``gc`` tricks); the static scan flags those modules' use for review, and the
grader's operating-system isolation (another user, resource limits) is what
protects the course files and other students.
"""

from __future__ import annotations

import ast
import os
import sys
import types

__all__ = ["TamperingError", "verify", "static_scan", "install"]

#: Top-level modules whose contents a submission must not change.
PROTECTED_MODULES = ("numpy", "pandas", "statsmodels", "solutions", "factordata", "autograder")
#: The reference module a submission must not import.
REFERENCE_MODULE = "solutions"


class TamperingError(AssertionError):
    """A submission imported the reference, read course files or patched libraries."""


# --------------------------------------------------------------------------
# Kernel side
# --------------------------------------------------------------------------
class _State:
    """What :func:`install` recorded; one per kernel."""

    def __init__(self, protected_paths, sandbox, guard_writes):
        self.protected = [os.path.realpath(p) for p in protected_paths]
        self.sandbox = os.path.realpath(sandbox) if sandbox else None
        self.guard_writes = guard_writes
        self.violations: list[dict] = []
        self.cell = None  # index of the notebook cell being run
        self.cell_is_student = False
        self.snapshot: list[tuple] = []
        self.modules: dict[str, types.ModuleType] = {}
        self.hidden_reference: dict[str, types.ModuleType] = {}
        self.autograder_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
        self.cell_prefixes: tuple[str, ...] = ()
        self.in_hook = False


_STATE: _State | None = None

_CURATED_BUILTINS = (
    "abs", "all", "any", "bool", "callable", "dict", "divmod", "float", "getattr",
    "hasattr", "hash", "id", "int", "isinstance", "issubclass", "iter", "len", "list",
    "map", "max", "min", "next", "object", "pow", "print", "range", "repr", "round",
    "set", "setattr", "sorted", "str", "sum", "tuple", "type", "zip", "__import__",
    "AssertionError", "Exception", "TypeError", "ValueError",
)


def _namespaces():
    """(label, mapping, include_private) for every protected namespace loaded."""
    import builtins

    out = [("builtins", builtins.__dict__, _CURATED_BUILTINS)]
    for name, mod in list(sys.modules.items()):
        if not isinstance(mod, types.ModuleType):
            continue
        root = name.split(".", 1)[0]
        if root not in PROTECTED_MODULES and name not in ("math", "operator", "numpy.testing"):
            continue
        if root in ("numpy", "pandas", "statsmodels") and name not in (
            "numpy", "numpy.testing", "numpy.linalg", "pandas", "pandas.testing",
            "statsmodels.api", "statsmodels.regression.linear_model",
        ):
            # Only the public faces of the big libraries: their internals
            # change legitimately (caches, lazy attributes).
            continue
        own = root in ("solutions", "factordata", "autograder")
        out.append((name, mod.__dict__, None if own else "public"))
        for attr, value in list(mod.__dict__.items()):
            if isinstance(value, type) and (own or attr in (
                "Series", "DataFrame", "Index", "ndarray", "OLS", "RegressionResults",
                "RegressionResultsWrapper",
            )) and getattr(value, "__module__", "").split(".", 1)[0] == root:
                out.append((f"{name}.{attr}", value.__dict__, None))
    try:
        from pandas.core.generic import NDFrame

        out.append(("pandas.NDFrame", NDFrame.__dict__, None))
    except Exception:  # pragma: no cover - pandas not loaded
        pass
    return out


def _take_snapshot() -> list[tuple]:
    snap = []
    for label, mapping, which in _namespaces():
        for name, value in list(mapping.items()):
            if isinstance(which, tuple):
                if name not in which:
                    continue
            elif which == "public":
                if name.startswith("_"):
                    continue
            elif name.startswith("__") and name.endswith("__") and not isinstance(mapping, types.MappingProxyType):
                continue
            elif name.startswith("_") and not callable(value) and not isinstance(mapping, types.MappingProxyType):
                continue  # private state of our own modules (caches) changes legitimately
            func = value
            if isinstance(value, (staticmethod, classmethod)):
                func = value.__func__
            code = getattr(func, "__code__", None) if isinstance(func, types.FunctionType) else None
            defaults = (func.__defaults__, func.__kwdefaults__) if code is not None else None
            snap.append((label, mapping, name, value, func if code is not None else None, code, defaults))
    return snap


def _diff_snapshot(snap) -> list[str]:
    changed = []
    missing = object()
    for label, mapping, name, value, func, code, defaults in snap:
        current = mapping.get(name, missing)
        if current is not value:
            changed.append(f"{label}.{name}")
        elif func is not None and (func.__code__ is not code
                                   or (func.__defaults__, func.__kwdefaults__) != defaults):
            changed.append(f"{label}.{name}")
    return changed


def _is_cell_file(filename: str, state: _State) -> bool:
    return filename.startswith(state.cell_prefixes) or filename.startswith("<ipython-input")


def _student_caller(state: _State) -> bool:
    """True when the innermost notebook-or-autograder frame is a notebook cell."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(state.autograder_dir):
            return False
        if _is_cell_file(filename, state):
            return True
        frame = frame.f_back
    return False


def _record(state: _State, kind: str, message: str) -> None:
    entry = {"cell": state.cell, "kind": kind, "message": message}
    if entry not in state.violations:
        state.violations.append(entry)


def _path_of(arg):
    if isinstance(arg, (str, bytes, os.PathLike)):
        try:
            return os.path.realpath(os.fsdecode(arg))
        except (TypeError, ValueError):
            return None
    return None


def _is_protected(path: str, state: _State) -> bool:
    return any(path == p or path.startswith(p + os.sep) for p in state.protected)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _audit(event: str, args) -> None:
    state = _STATE
    if state is None or state.in_hook:
        return
    if event not in ("open", "import", "os.listdir", "os.scandir", "subprocess.Popen", "os.system",
                     "os.remove", "os.rename", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.chmod",
                     "os.symlink", "os.link", "os.truncate", "os.utime", "os.chown"):
        return
    state.in_hook = True
    try:
        if event == "import":
            name = args[0]
            if (name == REFERENCE_MODULE or name.startswith(REFERENCE_MODULE + ".")) and _student_caller(state):
                _record(state, "import", "imported the reference module `solutions`")
            return
        if event in ("subprocess.Popen", "os.system"):
            text = " ".join(map(str, args[1] if event == "subprocess.Popen" and args[1] else args[:1]))
            if any(p in text for p in state.protected) or "source/" in text or "release/" in text:
                if _student_caller(state):
                    _record(state, "read", "ran a shell command on the course's source or release folders")
            return
        path = _path_of(args[0]) if args else None
        if path is None:
            return
        writing = event not in ("open", "os.listdir", "os.scandir")
        if event == "open":
            mode, flags = (args[1], args[2]) if len(args) >= 3 else ("r", 0)
            writing = bool((isinstance(mode, str) and any(c in mode for c in "wax+"))
                           or (isinstance(flags, int) and flags & _WRITE_FLAGS))
        outside = not state.sandbox or not (path == state.sandbox or path.startswith(state.sandbox + os.sep))
        if writing and outside and _is_protected(path, state):
            if _student_caller(state):
                _record(state, "write", "tried to write into the course directory or other students' work")
        elif event in ("open", "os.listdir", "os.scandir") and outside and path.endswith(".ipynb") \
                and not _is_protected(path, state):
            if _student_caller(state):
                _record(state, "read", "read notebooks outside its own folder")
        elif event in ("open", "os.listdir", "os.scandir") and _is_protected(path, state):
            if _student_caller(state):
                if any(path == p or path.startswith(p + os.sep) for p in state.protected[:2]):
                    _record(state, "read", "read the course's source or release notebooks "
                                           f"({os.path.basename(path) or path})")
                else:
                    _record(state, "read", "read other students' work or the grades "
                                           f"({os.path.basename(path) or path})")
        if state.guard_writes and state.sandbox:
            if writing and outside and path != os.devnull:
                raise PermissionError(f"the autograder sandbox does not allow writing to {path}")
    finally:
        state.in_hook = False


def _hide_reference(state: _State) -> None:
    """Take ``solutions`` out of ``sys.modules`` (kept alive in the state)."""
    for name in list(sys.modules):
        if name == REFERENCE_MODULE or name.startswith(REFERENCE_MODULE + "."):
            module = sys.modules.pop(name)
            if state.modules.get(name) is module:
                state.hidden_reference[name] = module


def install(protected_paths=(), sandbox=None, guard_writes=False, preload=()) -> None:
    """Arm the kernel-side checks (called by the grader before student code).

    Parameters
    ----------
    protected_paths : list of str
        Folders the submission must not read (course source/release).
    sandbox : str, optional
        The submission's own folder; with ``guard_writes`` the only place
        (besides ``os.devnull``) code may write to.
    guard_writes : bool
        Refuse writes outside ``sandbox`` in the audit hook. Used when the
        kernel cannot run as another user (grader not started as root); an
        audit hook can be bypassed with ``ctypes``, operating-system
        isolation cannot.
    preload : list of str
        Modules to import first (they are snapshotted, and the student's
        imports of them become cheap).
    """
    global _STATE
    if _STATE is not None:
        return
    import importlib
    import tempfile

    for name in preload:
        importlib.import_module(name)
    state = _State(protected_paths, sandbox, guard_writes)
    tmp = os.path.realpath(tempfile.gettempdir())
    state.cell_prefixes = (os.path.join(tmp, f"ipykernel_{os.getpid()}") + os.sep,
                           os.path.join(tempfile.gettempdir(), f"ipykernel_{os.getpid()}") + os.sep)
    state.snapshot = _take_snapshot()
    state.modules = {name: mod for name, mod in sys.modules.items()
                     if name.split(".", 1)[0] in PROTECTED_MODULES}
    _hide_reference(state)
    _STATE = state
    sys.addaudithook(_audit)


def _enter_cell(index: int, student: bool) -> None:
    """Called by the grader (silently) before each cell runs.

    Before a student cell ``solutions`` leaves ``sys.modules`` (so importing
    it is seen by the audit hook); before a test cell the original modules
    are put back (so the checks use the snapshotted, unmodified ones).
    """
    state = _STATE
    if state is None:
        return
    _release_memory_error()
    state.cell = index
    state.cell_is_student = student
    if student:
        _hide_reference(state)
    else:
        state.in_hook = True
        try:
            changed = _changed_modules(state)
            if changed:
                _record(state, "patch", f"modified protected library code ({', '.join(changed[:3])})")
            for name, mod in {**state.modules, **state.hidden_reference}.items():
                sys.modules[name] = mod
        finally:
            state.in_hook = False


def _release_memory_error() -> None:
    """After a MemoryError, drop what keeps the failed cell's frames alive.

    IPython keeps the last exception (``sys.last_value``, the traceback
    formatter, ``last_execution_result``), and through its traceback the
    frames holding the memory that ran out; later cells would fail too.
    """
    try:
        shell = get_ipython()  # noqa: F821 (defined in IPython kernels)
    except NameError:
        shell = None
    result = getattr(shell, "last_execution_result", None)
    errors = [getattr(sys, "last_value", None), getattr(result, "error_in_exec", None)]
    if not any(isinstance(e, MemoryError) for e in errors):
        return
    import gc

    for error in errors:
        if isinstance(error, BaseException):
            error.__traceback__ = None
    sys.last_type = sys.last_value = sys.last_traceback = None
    if result is not None:
        result.error_in_exec = None
    for formatter in (getattr(shell, "InteractiveTB", None),
                      getattr(getattr(shell, "InteractiveTB", None), "verbose_tb", None)):
        if formatter is not None and hasattr(formatter, "tb"):
            formatter.tb = None
    gc.collect()


def _changed_modules(state: _State) -> list[str]:
    """Protected ``sys.modules`` entries replaced by something else."""
    changed = []
    for name, mod in state.modules.items():
        if name == REFERENCE_MODULE or name.startswith(REFERENCE_MODULE + "."):
            continue  # importing it is recorded by the audit hook
        current = sys.modules.get(name)
        if current is not None and current is not mod:
            changed.append(f"sys.modules[{name!r}]")
    return changed


def _namespace_has_reference() -> list[str]:
    """Names in the notebook's namespace that come from ``solutions``."""
    main = sys.modules.get("__main__")
    names = []
    if main is None:
        return names
    for name, value in list(vars(main).items()):
        if name.startswith("_"):
            continue
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(module, str) and (module == REFERENCE_MODULE or module.startswith(REFERENCE_MODULE + ".")):
            if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                names.append(name)
    return names


def findings() -> list[dict]:
    """Everything recorded so far, plus a fresh comparison with the snapshot."""
    state = _STATE
    found: list[dict] = []
    if state is not None:
        state.in_hook = True
        try:
            found.extend(state.violations)
            changed = _diff_snapshot(state.snapshot) + _changed_modules(state)
        finally:
            state.in_hook = False
        if changed:
            shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            entry = {"cell": state.cell, "kind": "patch",
                     "message": f"modified protected library code ({shown})"}
            found.append(entry)
    names = _namespace_has_reference()
    if names and not any(f["kind"] == "import" for f in found):
        found.append({"cell": state.cell if state else None, "kind": "import",
                      "message": "imported the reference module `solutions` "
                                 f"({', '.join(sorted(names)[:3])})"})
    return found


def verify() -> None:
    """Raise :class:`TamperingError` if the submission tampered (see module doc).

    Called first by every answer check. Cheap (about a millisecond).

    Raises
    ------
    TamperingError
        With a one-line reason, e.g. "Flagged: imported the reference module
        `solutions`; no points for this question."
    """
    found = findings()
    if found:
        reasons = "; ".join(dict.fromkeys(f["message"] for f in found))
        raise TamperingError(f"Flagged: the notebook {reasons}. No points for this question.")


def _report() -> str:
    """JSON of :func:`findings`, for the grader (read after the last cell)."""
    import json

    return json.dumps(findings())


# --------------------------------------------------------------------------
# Grader side: static scan of the student's cells
# --------------------------------------------------------------------------
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
