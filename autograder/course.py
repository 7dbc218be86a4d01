"""The course directory (nbgrader's layout), its configuration and limits.

A course directory holds ``nbgrader_config.py`` and
``source/<assignment>/<assignment>.ipynb``; nbgrader and this package write
``release/``, ``submitted/``, ``autograded/``, ``feedback/``,
``gradebook.db`` and ``reports/`` next to them.

Limits an instructor can set, in ``nbgrader_config.py`` (command-line flags
override them for one run):

=====================================  =======  ===================================
setting                                default  meaning
=====================================  =======  ===================================
``c.Execute.timeout``                  30       seconds per cell (nbgrader's own)
``c.Autograder.notebook_timeout``      300      seconds of wall clock per notebook
``c.Autograder.memory_mb``             2048     memory of the submission's whole
                                                process tree (cgroup) and address
                                                space per process
``c.Autograder.max_processes``         64       processes and threads of the box
``c.Autograder.tmp_mb``                64       size of the box's /tmp and /dev/shm
``c.Autograder.max_output_mb``         2        output kept per cell
``c.Autograder.max_total_output_mb``   64       everything the box sends back
``c.Autograder.max_submission_mb``     50       size of a submitted file
``c.Autograder.max_restarts``          3        restarts per submission
``c.Autograder.jobs``                  cores    parallel boxes in ``grade``
``c.LimitOutput.max_lines``            1000     nbgrader's cap on output lines per cell
``c.Autograder.variants``              []       assignments where each student gets
                                                parameters of their own (window,
                                                budget, limit; ``autograder.variants``)
``c.Autograder.variant_seed``          none     the class seed the parameters derive
                                                from (required with ``variants``)
=====================================  =======  ===================================
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

#: The assignments of this course, in teaching order.
ASSIGNMENTS = ("alpha-beta", "hedging", "risk-budgets", "variance-shares", "five-tickers", "many-factors")


def ensure_tools_on_path() -> None:
    """Put this interpreter's ``bin/`` on PATH.

    nbgrader runs the ``alembic`` executable when it creates a gradebook; it
    is installed next to this Python, which is not on PATH when the
    ``autograder`` script is run without activating the virtual environment.
    """
    import sys

    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in parts if p])


class UserError(Exception):
    """A problem with the user's input: shown as one line, exit status 2."""


def default_course_dir() -> Path:
    """The repository's ``exercises/`` directory (next to the package)."""
    return Path(__file__).resolve().parent.parent / "exercises"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (see the module docstring)."""

    timeout: int = 30
    memory_mb: int = 2048
    max_output_mb: float = 2.0
    max_total_output_mb: float = 64.0
    max_submission_mb: float = 50.0
    max_restarts: int = 3
    startup_timeout: int = 60
    notebook_timeout: int = 300
    max_processes: int = 64
    tmp_mb: int = 64
    max_lines: int = 1000
    max_traceback: int = 100

    def __post_init__(self):
        if self.timeout is None or self.timeout <= 0:
            raise UserError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.memory_mb is not None and self.memory_mb < 256:
            raise UserError(f"memory cap must be at least 256 MB, got {self.memory_mb!r}")
        if self.notebook_timeout < self.timeout:
            raise UserError(f"notebook_timeout ({self.notebook_timeout} s) must be at least the "
                            f"cell timeout ({self.timeout} s)")

    def key(self) -> str:
        """A short string that changes when a limit that affects scores changes."""
        return (f"t{self.timeout}-n{self.notebook_timeout}-m{self.memory_mb}-p{self.max_processes}"
                f"-o{self.max_output_mb}-{self.max_total_output_mb}-l{self.max_lines}")


class Course:
    """An nbgrader course directory.

    Parameters
    ----------
    root : str or Path, optional
        The course directory; default: the repository's ``exercises/``.

    Raises
    ------
    UserError
        If the directory or its ``source/`` folder does not exist.
    """

    def __init__(self, root=None):
        root = Path(root) if root is not None else default_course_dir()
        if not root.is_dir():
            raise UserError(f"course directory not found: {root}")
        self.root = root.resolve()
        if not (self.root / "source").is_dir():
            raise UserError(f"not an nbgrader course directory (no source/ folder): {self.root}")
        self._config = None

    # ---- layout -----------------------------------------------------------
    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded_dir(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.root / "feedback"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def db_url(self) -> str:
        return "sqlite:///" + str(self.root / "gradebook.db")

    def assignments(self) -> list[str]:
        """Assignments with a source notebook, course order first."""
        found = sorted(p.name for p in self.source_dir.iterdir()
                       if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
        ordered = [a for a in ASSIGNMENTS if a in found]
        return ordered + [a for a in found if a not in ordered]

    def check_assignment(self, name: str) -> str:
        """Return ``name`` if it is an assignment of the course, else UserError."""
        if name not in self.assignments():
            choices = ", ".join(self.assignments()) or "none"
            raise UserError(f"unknown assignment {name!r}; this course has: {choices}")
        return name

    def source_notebook(self, name: str) -> Path:
        return self.source_dir / name / f"{name}.ipynb"

    # ---- configuration ----------------------------------------------------
    @property
    def config(self):
        """The course's ``nbgrader_config.py`` as a traitlets Config."""
        if self._config is None:
            from traitlets.config import Config
            from traitlets.config.loader import PyFileConfigLoader

            path = self.root / "nbgrader_config.py"
            cfg = Config()
            if path.is_file():
                try:
                    cfg = PyFileConfigLoader(path.name, path=str(self.root)).load_config()
                except Exception as exc:  # a broken config is a user error
                    raise UserError(f"cannot read {path}: {exc}") from None
            self._config = cfg
        return self._config

    @property
    def course_id(self) -> str:
        return str(self.config.get("CourseDirectory", {}).get("course_id", "factor-models"))

    def limits(self, timeout=None, memory_mb=None) -> Limits:
        """Limits from ``nbgrader_config.py``, overridden by the arguments."""
        cfg = self.config
        ag = cfg.get("Autograder", {})
        lo = cfg.get("LimitOutput", {})
        defaults = Limits()
        return Limits(
            timeout=int(timeout if timeout is not None else cfg.get("Execute", {}).get("timeout", defaults.timeout)),
            memory_mb=int(memory_mb if memory_mb is not None else ag.get("memory_mb", defaults.memory_mb)),
            max_output_mb=float(ag.get("max_output_mb", defaults.max_output_mb)),
            max_total_output_mb=float(ag.get("max_total_output_mb", defaults.max_total_output_mb)),
            max_submission_mb=float(ag.get("max_submission_mb", defaults.max_submission_mb)),
            max_restarts=int(ag.get("max_restarts", defaults.max_restarts)),
            notebook_timeout=int(ag.get("notebook_timeout", defaults.notebook_timeout)),
            max_processes=int(ag.get("max_processes", defaults.max_processes)),
            tmp_mb=int(ag.get("tmp_mb", defaults.tmp_mb)),
            max_lines=int(lo.get("max_lines", defaults.max_lines)),
            max_traceback=int(lo.get("max_traceback", defaults.max_traceback)),
        )

    def default_jobs(self) -> int:
        jobs = self.config.get("Autograder", {}).get("jobs", None)
        return int(jobs) if jobs else (os.cpu_count() or 1)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def sanitize_student_id(raw: str) -> str:
    """Turn a raw student name into a safe, stable student id.

    Rule (documented in the README): Unicode is decomposed and accents are
    dropped (``Müller`` -> ``Muller``); every run of characters other than
    ASCII letters, digits, ``_``, ``.`` and ``-`` (path separators, spaces,
    other scripts) becomes one ``_``; leading and trailing ``._-`` are
    stripped, so ``..`` and hidden names cannot occur; an id that ends up
    empty becomes ``student-<8 hex digits of the raw name's SHA-256>``.

    Examples
    --------
    >>> sanitize_student_id("../../etc/passwd")
    'etc_passwd'
    >>> sanitize_student_id("Anna Müller")
    'Anna_Muller'
    """
    import hashlib
    import unicodedata

    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SAFE.sub("_", text)
    text = re.sub(r"\.{2,}", "_", text).strip("._-")
    if not text:
        text = "student-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return text
