"""Grading one notebook end to end; shared by ``check`` and ``grade``.

Flow of a submission::

    read_submission          bytes -> nbformat-4 notebook (or "not a notebook")
    sanitize                 nbgrader's OverwriteCells & co., fed by the source
    integrity.static_scan    the student's cells, before anything runs
    SandboxExecute.run       nbgrader's Execute on a sandboxed kernel
    IgnorePattern, LimitOutput   nbgrader's, as in ``nbgrader autograde``
    utils.determine_grade    nbgrader's score for every grade cell
    flags                    no points for questions graded after tampering
    scrub                    test-cell errors -> "ename: evalue", hidden lines out

:func:`grade_notebook` returns a :class:`Result` (JSON-ready) and the
autograded notebook (hidden tests still in it, as nbgrader keeps them for
the instructor; :mod:`autograder.feedback` removes them for students).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field

from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from . import __version__, integrity
from .course import Limits
from .executor import SandboxExecute, error_output, is_student_cell
from .sandbox import SandboxError, SandboxKernel
from .sanitize import NotANotebook, parse_submission, sanitize
from .spec import AssignmentSpec

STATUSES = ("passed", "failed", "error", "manual")


@dataclass
class Question:
    id: str
    points: float | None
    max_points: float
    status: str
    message: str = ""


@dataclass
class Result:
    """The outcome of grading one notebook (see ``--json`` of ``check``)."""

    assignment: str
    score: float = 0.0
    max_score: float = 0.0  # autograded points only; manual ones are in manual_pending
    questions: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    status: str = "ok"
    student: str | None = None
    sha256: str = ""
    key: str = ""
    manual_pending: float = 0.0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    def public(self) -> dict:
        """The ``check --json`` document."""
        return {"assignment": self.assignment, "score": self.score, "max_score": self.max_score,
                "questions": [{k: q[k] for k in ("id", "points", "max_points", "status", "message")}
                              for q in self.to_json()["questions"]],
                "flags": list(self.flags)}


def autograded_max(spec) -> float:
    """Points the autograder can give (written answers excluded)."""
    return float(sum(spec.grade_cells[n].max_score for n in spec.autograded_ids))


def cache_key(spec: AssignmentSpec, limits: Limits) -> str:
    """Changes when anything but the submission changes a grade."""
    return f"{__version__}:{spec.digest[:16]}:{limits.key()}"


def _message(cell, spec) -> tuple[str, str]:
    """(status, message) of a failed code grade cell."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", "Error"), str(out.get("evalue", "")).strip()
            evalue = _scrub_text(evalue, spec)
            if ename in ("AssertionError", "TamperingError"):
                return "failed", evalue or "a test failed (no message)"
            if ename == "NotImplementedError" and not evalue:
                return "error", "not answered yet (NotImplementedError)"
            return "error", f"{ename}: {evalue}" if evalue else ename
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            first = next((ln for ln in _scrub_text(out.get("text", ""), spec).splitlines() if ln.strip()), "")
            return "failed", ("the test wrote to stderr, which nbgrader counts as a failure: " + first.strip())[:300]
    return "failed", "partial credit"


def _scrub_text(text: str, spec) -> str:
    """Drop lines that are hidden-test source."""
    if not spec.hidden_lines:
        return text
    return "\n".join(ln for ln in text.split("\n") if ln.strip() not in spec.hidden_lines)


def scrub_outputs(nb, spec) -> None:
    """Test cells: errors become ``ename: evalue``, hidden-test lines removed.

    IPython tracebacks quote the failing source lines, i.e. the hidden test;
    the message of the assertion is what the student should read.
    """
    for cell in nb.cells:
        if cell.cell_type != "code" or not utils.is_locked(cell):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["evalue"] = _scrub_text(str(out.get("evalue", "")), spec)
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
            elif out.get("output_type") == "stream":
                out["text"] = _scrub_text(out.get("text", ""), spec)
            elif "data" in out:
                for mime, value in list(out["data"].items()):
                    if isinstance(value, str) and mime.startswith("text/"):
                        out["data"][mime] = _scrub_text(value, spec)


def _unique_reasons(reasons) -> list[str]:
    """One entry per kind of reason (the part before any parenthesis)."""
    seen = {}
    for r in reasons:
        seen.setdefault(r.split(" (", 1)[0], r)
    return list(seen.values())


def invalid_result(spec, reason, sha="", key="", student=None) -> Result:
    """A submission that could not be read: every question 0."""
    questions = [Question(n, 0.0, spec.grade_cells[n].max_score,
                          "error", f"not graded: {reason}") for n in spec.order if n in spec.grade_cells]
    return Result(assignment=spec.name, score=0.0, max_score=autograded_max(spec),
                  questions=[asdict(q) for q in questions], status="invalid", notes=[reason],
                  flags=[reason], sha256=sha, key=key, student=student)


def grade_notebook(raw: bytes, spec: AssignmentSpec, limits: Limits, *, config=None,
                   protected_paths=(), kernel: SandboxKernel | None = None,
                   new_kernel=None, student=None) -> tuple[Result, NotebookNode | None]:
    """Grade one submission (bytes of the file).

    Parameters
    ----------
    raw : bytes
        The submitted file.
    spec : AssignmentSpec
    limits : Limits
    config : traitlets Config, optional
        The course's nbgrader configuration.
    protected_paths : list of str
        Folders the submission must not read.
    kernel : SandboxKernel, optional
        A started kernel to use (it is shut down afterwards).
    new_kernel : callable, optional
        ``new_kernel(folder) -> started SandboxKernel`` for restarts.

    Returns
    -------
    (Result, NotebookNode or None)
        The autograded notebook is None when the file was not a notebook.
    """
    from nbgrader.preprocessors import IgnorePattern, LimitOutput

    started = time.monotonic()
    sha = hashlib.sha256(raw).hexdigest()
    key = cache_key(spec, limits)
    if new_kernel is None:
        def new_kernel(folder=None):
            return SandboxKernel(limits, protected_paths, folder=folder).start()
    try:
        nb, notes = parse_submission(raw)
        nb, more = sanitize(nb, spec, config)
        notes += more
    except (NotANotebook, ValueError) as exc:
        if kernel is not None:
            kernel.shutdown()
        result = invalid_result(spec, str(exc), sha, key, student)
        result.seconds = time.monotonic() - started
        return result, None

    student_cells = {i for i, c in enumerate(nb.cells) if is_student_cell(c)}
    static = {i: integrity.static_scan(nb.cells[i].source) for i in sorted(student_cells)}
    static = {i: r for i, r in static.items() if r}

    resources = {"nbgrader": {"notebook": spec.name, "assignment": spec.name, "student": student}}
    executor = SandboxExecute(config=config)
    if kernel is None:
        kernel = new_kernel()
    executor.setup(limits, kernel, new_kernel)
    status = "ok"
    findings = []
    try:
        executor.run(nb, resources, student_cells)
        findings = executor.findings()
    except SandboxError as exc:
        status = "error"
        notes.append(f"grader error: {exc}")
        for c in nb.cells:
            if c.cell_type == "code" and utils.is_grade(c) and not c.get("outputs"):
                c["outputs"] = [error_output("GraderError", str(exc))]
    finally:
        executor.sandbox.shutdown()
    nb, resources = IgnorePattern(config=config)(nb, resources)
    lo = LimitOutput(config=config)
    lo.max_lines, lo.max_traceback = limits.max_lines, limits.max_traceback
    nb, resources = lo(nb, resources)

    kinds = {e["kind"] for e in executor.events}
    if status == "ok":
        status = "kernel-died" if "died" in kinds or "not-run" in kinds else "timeout" if "timeout" in kinds else "ok"
    notes += [e["message"] for e in executor.events]

    # Integrity: which questions come after an offence.
    offences = []  # (cell index or -1 for "anywhere", reason)
    for i, reasons in static.items():
        offences += [(i, r) for r in reasons]
    for f in findings:
        offences.append((f["cell"] if isinstance(f.get("cell"), int) else -1, f["message"]))
    flags = _unique_reasons("flagged: " + r for _, r in offences)
    for i, cell in enumerate(nb.cells):
        if i in student_cells and any(o.get("ename") == "MemoryError" for o in cell.get("outputs", [])
                                      if o.get("output_type") == "error"):
            notes.append(f"cell {i + 1} ran out of memory (cap {limits.memory_mb} MB)")

    questions = []
    score = 0.0
    pending = 0.0
    index_of = {c.metadata.nbgrader["grade_id"]: i for i, c in enumerate(nb.cells)
                if utils.is_grade(c) and c.metadata.get("nbgrader", {}).get("grade_id")}
    for name in spec.order:
        if name not in spec.grade_cells:
            continue
        i = index_of.get(name)
        cell = nb.cells[i] if i is not None else None
        max_points = spec.grade_cells[name].max_score
        if cell is None:
            q = Question(name, 0.0, max_points, "error", "the cell is missing")
        else:
            points, _ = utils.determine_grade(cell)
            if points is None:
                q = Question(name, None, max_points, "manual", "graded by hand")
                pending += max_points
            elif utils.is_solution(cell):
                q = Question(name, float(points), max_points, "failed", "No response.")
            elif points >= max_points:
                q = Question(name, float(points), max_points, "passed", "")
            else:
                st, msg = _message(cell, spec)
                q = Question(name, float(points), max_points, st, msg)
            hits = [r for j, r in offences if j == -1 or j < i]
            if hits and q.status != "manual" and cell.cell_type == "code":
                q.points, q.status = 0.0, "failed"
                q.message = f"Flagged: the notebook {'; '.join(_unique_reasons(hits))}. No points for this question."
        score += q.points or 0.0
        questions.append(asdict(q))

    scrub_outputs(nb, spec)
    result = Result(assignment=spec.name, score=score, max_score=autograded_max(spec), questions=questions,
                    flags=flags + [n for n in notes if n], notes=notes, status=status, student=student,
                    sha256=sha, key=key, manual_pending=pending, seconds=time.monotonic() - started)
    return result, nb
