"""Self-check from inside Jupyter: ``from autograder.notebook import check; check()``.

The same judgement as ``autograder check`` on the command line (the notebook
runs in a separate process, in the sandbox when this machine has one, and
its answers are judged outside it), started from a cell of the notebook
being worked on. Jupyter keeps the notebook in the browser until it is
saved, so ``check`` grades the last *saved* version and says when that was.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def current_notebook() -> Path | None:
    """The path of the notebook this kernel belongs to, when Jupyter says so.

    Jupyter Server passes it to the kernel as ``JPY_SESSION_NAME`` (JupyterLab
    4, Notebook 7); IPython keeps it as ``__session__``; VS Code as
    ``__vsc_ipynb_file__``.
    """
    candidates = [os.environ.get("JPY_SESSION_NAME")]
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            candidates += [shell.user_ns.get("__session__"), shell.user_ns.get("__vsc_ipynb_file__")]
    except ImportError:
        pass
    for value in candidates:
        if isinstance(value, str) and value.endswith(".ipynb"):
            path = Path(value)
            if not path.is_absolute():
                path = Path.cwd() / path.name if not path.exists() else path.resolve()
            if path.is_file():
                return path
    return None


def check(path=None, *, timeout=None) -> None:
    """Grade the saved notebook and print the table (the command line's).

    Parameters
    ----------
    path : str or Path, optional
        The notebook; default: the one this kernel runs (save it first).
    """
    from .check import check as grade_one
    from .check import format_table, progress_line, record_progress
    from .course import UserError

    path = Path(path) if path is not None else current_notebook()
    if path is None:
        print("autograder: cannot tell which notebook this is; call check('my-notebook.ipynb')")
        return
    saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
    print(f"Grading {path.name} as saved at {saved} (save first with Ctrl+S / Cmd+S to grade your latest work)...")
    try:
        result = grade_one(path, timeout=timeout)
    except UserError as exc:
        print(f"autograder: {exc}")
        return
    print(format_table(result, width=100))
    record_progress(result)
    print(progress_line())
