"""An assignment's reference cells, read from its source notebook.

nbgrader's ``OverwriteCells`` and ``OverwriteKernelspec`` restore a
submission's locked cells, points and kernel from the gradebook, where
``nbgrader generate_assignment`` saved them. ``autograder check`` must work
for a learner who has no gradebook, and parallel workers should not all
query one SQLite file, so :class:`AssignmentSpec` computes the very same
records from the source notebook with nbgrader's own ``generate_assignment``
preprocessors (``LockCells``, ``ClearSolutions``, ``ClearOutput``,
``ComputeChecksums``: the state ``SaveCells`` writes to the gradebook), and
:class:`SourceGradebook` answers the few gradebook queries those
preprocessors make. Scores are therefore identical to nbgrader's with a
gradebook.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import nbformat

from .course import UserError


@dataclass
class AssignmentSpec:
    """The reference cells of one assignment notebook.

    Attributes
    ----------
    name : str
        Assignment (and notebook) name.
    source_cells : list
        Records with ``name``, ``cell_type``, ``source``, ``checksum``,
        ``locked`` for every cell with a ``grade_id``, in notebook order (as
        the gradebook's ``SourceCell`` rows).
    grade_cells : dict
        grade_id -> record with ``max_score``, ``cell_type``, ``name``.
    solution_ids, task_ids : list of str
    hidden_lines : set of str
        Stripped lines of the hidden-test regions (never shown to students).
    release : NotebookNode
        The student version (as ``generate_assignment`` writes it).
    hidden : dict
        grade_id -> the hidden-test block of each test cell (what the
        trusted judge runs on the student's exported answers).
    visible : dict
        grade_id -> the test cell as students see it (what runs in the box).
    exports : dict
        grade_id -> names the hidden tests read from the student's notebook.
    mark_schemes : dict
        grade_id -> the source's text of each written answer (its mark
        scheme), shown to the grader in the autograded copy only.
    kernelspec : dict or None
    digest : str
        SHA-256 of the source notebook (changes invalidate cached grades).
    variant_seed : str or None
        The class seed when the course turned per-student variants on for
        this assignment (:mod:`autograder.variants`), else None.
    """

    name: str
    source_cells: list = field(default_factory=list)
    grade_cells: dict = field(default_factory=dict)
    solution_ids: list = field(default_factory=list)
    task_ids: list = field(default_factory=list)
    hidden_lines: set = field(default_factory=set)
    release: object = None
    hidden: dict = field(default_factory=dict)
    visible: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)
    mark_schemes: dict = field(default_factory=dict)
    kernelspec: dict | None = None
    digest: str = ""
    variant_seed: str | None = None

    @property
    def order(self) -> list[str]:
        return [c.name for c in self.source_cells]

    @property
    def max_score(self) -> float:
        return float(sum(c.max_score for c in self.grade_cells.values()))

    @property
    def autograded_ids(self) -> list[str]:
        return [c.name for c in self.source_cells
                if c.name in self.grade_cells and c.name not in self.solution_ids and c.cell_type == "code"]


def _preprocessor_config(config):
    from traitlets.config import Config

    cfg = Config()
    if config is not None:
        cfg.merge(config)
    return cfg


def load_spec(path, name=None, config=None) -> AssignmentSpec:
    """Build the :class:`AssignmentSpec` of a source notebook.

    Parameters
    ----------
    path : str or Path
        ``source/<name>/<name>.ipynb``.
    name : str, optional
        Assignment name; default the notebook's stem.
    config : traitlets Config, optional
        The course's nbgrader configuration (``ClearSolutions.code_stub`` etc).
    """
    from nbgrader.preprocessors import (
        CheckCellMetadata, ClearHiddenTests, ClearOutput, ClearSolutions, ComputeChecksums, LockCells)
    from nbgrader import utils

    path = Path(path)
    raw = path.read_bytes()
    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    name = name or path.stem
    cfg = _preprocessor_config(config)
    schemes = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade") and meta.get("grade_id"):
            text = cell.source.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "").strip()
            schemes[meta["grade_id"]] = text
    resources = {"nbgrader": {"notebook": path.stem, "assignment": name}}
    # The same steps, in the same order, as GenerateAssignment up to SaveCells.
    for pp in (LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums):
        nb, resources = pp(config=cfg)(nb, resources)
    from .variants import seed_for

    spec = AssignmentSpec(name=name, digest=hashlib.sha256(raw).hexdigest(),
                          kernelspec=nb.metadata.get("kernelspec"), mark_schemes=schemes,
                          variant_seed=seed_for(config, name))
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        spec.source_cells.append(SimpleNamespace(
            name=grade_id, cell_type=cell.cell_type, source=cell.source,
            checksum=meta.get("checksum"), locked=utils.is_locked(cell)))
        if utils.is_grade(cell) or utils.is_task(cell):
            spec.grade_cells[grade_id] = SimpleNamespace(
                name=grade_id, max_score=float(meta.get("points", 0)), cell_type=cell.cell_type)
        if utils.is_solution(cell):
            spec.solution_ids.append(grade_id)
        if utils.is_task(cell):
            spec.task_ids.append(grade_id)
    release = copy.deepcopy(nb)
    for pp in (ClearHiddenTests, ComputeChecksums, CheckCellMetadata):
        release, resources = pp(config=cfg)(release, resources)
    spec.release = release
    from .judge import hidden_block, needed_names

    for full, public in zip(nb.cells, release.cells):
        grade_id = full.metadata.get("nbgrader", {}).get("grade_id")
        if full.cell_type == "code" and grade_id in spec.grade_cells and utils.is_locked(full):
            code = hidden_block(full.source)
            if code.strip():
                spec.hidden[grade_id] = code
                spec.exports[grade_id] = needed_names(code)
            spec.visible[grade_id] = public.source
        if full.source != public.source:
            kept = {line.strip() for line in public.source.splitlines()}
            spec.hidden_lines |= {line.strip() for line in full.source.splitlines()
                                  if line.strip() and line.strip() not in kept}
    return spec


class SourceGradebook:
    """Answers nbgrader's gradebook queries from an :class:`AssignmentSpec`.

    Implements the subset of :class:`nbgrader.api.Gradebook` used by
    ``OverwriteCells`` (``find_notebook``, ``find_source_cell``,
    ``find_graded_cell``) and ``OverwriteKernelspec``.
    """

    def __init__(self, spec: AssignmentSpec):
        self.spec = spec
        self._cells = {c.name: c for c in spec.source_cells}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_notebook(self, notebook_id, assignment_id):
        spec = self.spec
        return SimpleNamespace(
            name=notebook_id,
            source_cells=list(spec.source_cells),
            grade_cells=[spec.grade_cells[n] for n in spec.order
                         if n in spec.grade_cells and n not in spec.task_ids],
            solution_cells=[self._cells[n] for n in spec.solution_ids],
            task_cells=[spec.grade_cells[n] for n in spec.task_ids],
            kernelspec=json.dumps(spec.kernelspec) if spec.kernelspec else None,
        )

    def find_source_cell(self, name, notebook_id, assignment_id):
        from nbgrader.api import MissingEntry

        try:
            return self._cells[name]
        except KeyError:
            raise MissingEntry() from None

    def find_graded_cell(self, name, notebook_id, assignment_id):
        from nbgrader.api import MissingEntry

        try:
            return self.spec.grade_cells[name]
        except KeyError:
            raise MissingEntry() from None


def find_assignment(nb, course=None, filename=None) -> str | None:
    """Which assignment a notebook belongs to: by its grade_ids, else its name.

    Returns the assignment whose source notebook shares the most grade_ids
    with ``nb`` (at least one), else the one named like ``filename``, else
    None.
    """
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])}
    ids.discard(None)
    best, best_n = None, 0
    if course is not None:
        for name in course.assignments():
            try:
                src = json.loads(course.source_notebook(name).read_text("utf-8"))
            except (OSError, ValueError):
                continue
            theirs = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in src.get("cells", [])}
            n = len(ids & theirs)
            if n > best_n:
                best, best_n = name, n
        if best is None and filename:
            stem = Path(filename).stem
            for name in course.assignments():
                if stem == name or stem.startswith(name):
                    return name
    return best


def spec_for(course, name) -> AssignmentSpec:
    """The spec of one of the course's assignments (UserError if unreadable)."""
    path = course.source_notebook(name)
    try:
        return load_spec(path, name, course.config)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the source notebook {path}: {exc}") from None
