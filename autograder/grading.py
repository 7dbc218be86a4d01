"""Grading one notebook end to end; shared by ``check`` and ``grade``.

Flow of a submission::

    size cap, parse_submission   bytes -> nbformat-4 notebook (or "not a notebook")
    sanitize                 nbgrader's OverwriteCells & co., fed by the source
    integrity.static_scan    notes on the student's cells, before anything runs
    executor.execute         the cells run in a box (untrusted half); before each
                             test cell, the answers it needs leave as plain data
    IgnorePattern, LimitOutput   nbgrader's, as in ``nbgrader autograde``
    judge.judge_question     the hidden tests run here (trusted half) on those
                             data, with partial credit per item
    scrub                    test-cell errors -> "ename: evalue"

:func:`grade_notebook` returns a :class:`Result` (JSON-ready) and the
autograded notebook (hidden tests still in it, as nbgrader keeps them for
the instructor; :mod:`autograder.feedback` removes them for students).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, field

from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from . import __version__, integrity
from .course import Limits
from .executor import Step, execute
from .feedback import neutralise_student_cells
from .judge import judge_question, typed_in_names
from .variants import judge_variants
from .sandbox import SandboxError
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
    mistakes: list = field(default_factory=list)  # named mistakes the answer matched


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
    """Changes when anything but the submission changes a grade (variants and their seed included)."""
    key = f"{__version__}:{spec.digest[:16]}:{limits.key()}"
    if spec.variant_seed:
        key += ":v" + hashlib.sha256(spec.variant_seed.encode("utf-8")).hexdigest()[:12]
    return key


def is_student_cell(cell) -> bool:
    """Student code: any code cell that is not locked (solution or free cell)."""
    return cell.cell_type == "code" and not utils.is_locked(cell)


def question_label(grade_id: str) -> str:
    """``q3-hedged-properties`` -> ``question 3``; other ids as they are."""
    import re

    match = re.match(r"q(\d+)\b", grade_id)
    return f"question {int(match.group(1))}" if match else grade_id


MARK_SCHEME_KEY = "autograder_mark_scheme"


def add_mark_schemes(nb, spec) -> None:
    """After each written answer, its mark scheme (for formgrader; feedback drops it).

    A plain markdown cell with no nbgrader metadata (so nbgrader neither
    grades nor checksums it), tagged ``autograder_mark_scheme`` in its
    metadata; :func:`autograder.feedback.render_feedback` removes it.
    """
    from nbformat.v4 import new_markdown_cell

    out = []
    for cell in nb.cells:
        out.append(cell)
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "markdown" and gid in spec.mark_schemes:
            note = new_markdown_cell(
                "> **For the grader (not shown to students):**\n>\n"
                + "\n".join("> " + line for line in spec.mark_schemes[gid].split("\n")),
                metadata={MARK_SCHEME_KEY: gid})
            out.append(note)
    nb.cells = out


def _first_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", "Error"), str(out.get("evalue", "")).strip()
            if ename == "NotImplementedError" and not evalue:
                return None  # not answered yet: said as such
            first = evalue.splitlines()[0][:200] if evalue else ""
            return f"{ename}: {first}" if first else ename
    return None


def _answer_error(nb, index) -> str | None:
    """The error of the student's answer cells just before test cell ``index``."""
    for j in range(index - 1, -1, -1):
        cell = nb.cells[j]
        if cell.cell_type != "code":
            continue
        if not is_student_cell(cell):
            return None
        error = _first_error(cell)
        if error:
            return error
    return None


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


def warm_judge() -> None:
    """Import what the judge needs (the reference module: seconds), ahead of the first question."""
    try:
        import autograder.checks  # noqa: F401
        import solutions  # noqa: F401
        # most of the time: solutions imports statsmodels only for its first fit
        import statsmodels.regression.linear_model  # noqa: F401
    except Exception:  # the judge reports it, with its context, when it runs
        pass


def grade_notebook(raw: bytes, spec: AssignmentSpec, limits: Limits, *, config=None,
                   sandbox: bool = True, new_uid=None, student=None, box=None) -> tuple[Result, NotebookNode | None]:
    """Grade one submission (bytes of the file).

    Parameters
    ----------
    raw : bytes
        The submitted file.
    spec : AssignmentSpec
    limits : Limits
    config : traitlets Config, optional
        The course's nbgrader configuration.
    sandbox : bool
        Run the student's code in a box (:mod:`autograder.sandbox`); False
        runs it as a plain child process (``--no-sandbox``, a learner's own
        ``check``).
    new_uid : callable, optional
        ``new_uid() -> int``: a fresh uid for each box (root only).
    box : autograder.sandbox.Box, optional
        A box started early without a job (``check`` starts it before it
        reads the course, so that both happen at once); this function owns
        it and closes it.

    Returns
    -------
    (Result, NotebookNode or None)
        The autograded notebook is None when the file was not a notebook.
    """
    from nbgrader.preprocessors import IgnorePattern, LimitOutput

    started = time.monotonic()
    sha = hashlib.sha256(raw).hexdigest()
    key = cache_key(spec, limits)
    if new_uid is None:
        from .sandbox import uid_block

        counter = iter(range(uid_block(1000), 10**12))
        new_uid = counter.__next__

    def invalid(reason):
        if box is not None:
            box.close()
        result = invalid_result(spec, reason, sha, key, student)
        result.seconds = time.monotonic() - started
        return result, None

    if len(raw) > limits.max_submission_mb * 2**20:
        return invalid(f"the file is larger than {limits.max_submission_mb:g} MB")
    try:
        nb, notes = parse_submission(raw)
        nb, more = sanitize(nb, spec, config)
        notes += more
    except (NotANotebook, ValueError) as exc:
        return invalid(str(exc))

    student_cells = [i for i, c in enumerate(nb.cells) if is_student_cell(c)]
    static = {i: integrity.static_scan(nb.cells[i].source) for i in student_cells}
    static = {i: r for i, r in static.items() if r}
    typed_in = typed_in_names(nb.cells[i].source for i in student_cells)
    # Whose parameters the checks grade on: the submission's student (grade),
    # or the id typed in (check, which knows no other identity).
    variants = judge_variants(spec.variant_seed, student, nb)

    steps = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in spec.visible and not is_student_cell(cell):
            steps.append(Step(i, spec.visible[grade_id], spec.exports.get(grade_id, ())))
        else:
            steps.append(Step(i, cell.source))
    status = "ok"
    # The judge's imports (the reference module, statsmodels: seconds) are
    # done in a thread while the box runs the notebook on the other core.
    warming = threading.Thread(target=warm_judge, daemon=True)
    warming.start()
    try:
        run = execute(steps, limits, new_uid, sandbox=sandbox, first_box=box)
    except SandboxError as exc:
        result = invalid_result(spec, f"grader error: {exc}", sha, "", student)
        result.status = "error"
        result.seconds = time.monotonic() - started
        return result, None
    for i, outputs in run.outputs.items():
        nb.cells[i]["outputs"] = outputs
        nb.cells[i]["execution_count"] = run.counts.get(i)
    status = run.status
    notes += [e["message"] for e in run.events]

    resources = {"nbgrader": {"notebook": spec.name, "assignment": spec.name, "student": student}}
    nb, resources = IgnorePattern(config=config)(nb, resources)
    lo = LimitOutput(config=config)
    lo.max_lines, lo.max_traceback = limits.max_lines, limits.max_traceback
    nb, resources = lo(nb, resources)

    for i in student_cells:  # what the box saw: an import of the module it does not have
        for out in nb.cells[i].get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") in ("ModuleNotFoundError", "ImportError") \
                    and "'solutions'" in str(out.get("evalue", "")):
                static.setdefault(i, []).append(integrity.FORBIDDEN[0])
            if out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                notes.append(f"cell {i + 1} ran out of memory (cap {limits.memory_mb} MB)")
    offences = [(i, r) for i, reasons in static.items() for r in reasons if r in integrity.FORBIDDEN]
    flags = _unique_reasons("flagged: " + r for _, r in offences)
    review = _unique_reasons(f"review: the code {r}" for i, reasons in static.items()
                             for r in reasons if r not in integrity.FORBIDDEN)

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
        label = question_label(name)
        if cell is None:
            q = Question(name, 0.0, max_points, "error", "the cell is missing")
        elif cell.cell_type != "code" or utils.is_solution(cell):
            if cell.cell_type == "markdown" and utils.is_solution(cell):
                points, _ = utils.determine_grade(cell)  # 0 when untouched ("No response.")
                if points is None:
                    q = Question(name, None, max_points, "manual", "graded by hand")
                    pending += max_points
                else:
                    q = Question(name, 0.0, max_points, "failed", "No response.")
            else:
                q = Question(name, 0.0, max_points, "failed", "this cell is not graded automatically")
        elif name in spec.hidden:
            verdict = judge_question(spec.hidden[name], run.exports.get(i), max_points, label=label,
                                     answer_error=_answer_error(nb, i), typed_in=typed_in, variants=variants)
            q = Question(name, verdict.points, max_points, verdict.status, verdict.message,
                         list(verdict.mistakes))
        else:
            # A test cell without hidden tests: nbgrader's rule on the box's
            # outputs (no error output: full points).
            points, _ = utils.determine_grade(cell)
            q = Question(name, float(points or 0.0), max_points,
                         "passed" if points and points >= max_points else "failed",
                         "" if points and points >= max_points else (_first_error(cell) or "the test failed"))
        hits = [r for j, r in offences if i is not None and j < i]
        if hits and q.status != "manual" and cell is not None and cell.cell_type == "code":
            q.points, q.status = 0.0, "failed"
            q.message = f"Flagged: the notebook {'; '.join(_unique_reasons(hits))}. No points for this question."
        score += q.points or 0.0
        questions.append(asdict(q))

    scrub_outputs(nb, spec)
    neutralise_student_cells(nb)
    add_mark_schemes(nb, spec)
    result = Result(assignment=spec.name, score=round(score, 6), max_score=autograded_max(spec),
                    questions=questions, flags=flags + review + [n for n in notes if n], notes=notes,
                    status=status, student=student, sha256=sha, key=key, manual_pending=pending,
                    seconds=time.monotonic() - started)
    return result, nb
