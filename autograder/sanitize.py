"""Reading a submission and restoring what the student must not change.

:func:`read_submission` turns whatever was handed in into an nbformat-4
notebook or a one-line reason why it cannot be graded (empty file, not
JSON, not a notebook); nbformat 3 notebooks are converted.

:func:`sanitize` runs nbgrader's autograde sanitizing preprocessors
(``ClearOutput``, ``DeduplicateIds``, ``OverwriteKernelspec``,
``OverwriteCells`` with ``add_missing_cells``, ``CheckCellMetadata``), fed
from the source notebook (:mod:`autograder.spec`) instead of the gradebook,
after a repair pass nbgrader does not have:

* cells whose nbgrader metadata is corrupted (nbgrader's
  ``CheckCellMetadata`` would reject the whole notebook) lose it;
* cells whose metadata was stripped (another editor, copy and paste) get it
  back when they can be recognised: a locked cell by its text, an answer
  cell by its position between recognised cells;
* locked test cells that were moved are put back right after the cell they
  follow in the source;
* missing test cells are added back (nbgrader's ``add_missing_cells``; its
  own version raises ``KeyError`` when the cell before the missing one is
  also missing, so :class:`RestoringOverwriteCells` inserts after the
  nearest earlier cell that is present).

Every repair adds a note for the feedback and ``grades.csv``.
"""

from __future__ import annotations

import json
import logging
import uuid

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader import utils
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                    OverwriteKernelspec)

from .spec import AssignmentSpec, SourceGradebook
from .text import clean_tree


class NotANotebook(ValueError):
    """The file cannot be graded; the message says why, in one line."""


def read_submission(path) -> tuple[NotebookNode, list[str]]:
    """Read a submitted file as an nbformat-4 notebook.

    Returns
    -------
    nb : NotebookNode
    notes : list of str
        E.g. ``["converted from nbformat 3"]``.

    Raises
    ------
    NotANotebook
        Empty file, not JSON, not a notebook, unreadable.
    """
    try:
        raw = open(path, "rb").read()
    except OSError as exc:
        raise NotANotebook(f"cannot read the file: {exc.strerror}") from None
    return parse_submission(raw)


def parse_submission(raw: bytes) -> tuple[NotebookNode, list[str]]:
    """Like :func:`read_submission`, from the file's bytes."""
    if not raw.strip():
        raise NotANotebook("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotANotebook("not a notebook: the file is not UTF-8 text") from None
    except ValueError as exc:
        raise NotANotebook(f"not a notebook: the file is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise NotANotebook("not a notebook: the JSON has no cells")
    data = clean_tree(data)  # lone surrogates (valid JSON, invalid UTF-8) -> U+FFFD
    notes = []
    major = data.get("nbformat")
    if major == 3 or "worksheets" in data:
        try:
            nb = nbformat.reads(json.dumps(data), as_version=4)
        except Exception as exc:
            raise NotANotebook(f"not a notebook: cannot convert from nbformat 3 ({exc})") from None
        notes.append("converted from nbformat 3")
    elif major == 4 or major is None:
        data.setdefault("nbformat", 4)
        data.setdefault("nbformat_minor", 5)
        data.setdefault("metadata", {})
        nb = from_dict(data)
    else:
        raise NotANotebook(f"not a notebook: unsupported nbformat {major!r}")
    nb.cells = [_normalise_cell(c) for c in nb.cells if isinstance(c, dict)]
    nb.metadata = from_dict({k: v for k, v in dict(nb.get("metadata") or {}).items()
                             if k in ("kernelspec", "language_info")})
    return nb, notes


_CELL_ID = __import__("re").compile(r"[a-zA-Z0-9_-]{1,64}")


def _normalise_cell(cell) -> NotebookNode:
    cell = from_dict(dict(cell))
    if cell.get("cell_type") not in ("code", "markdown", "raw"):
        cell["cell_type"] = "raw"
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    cell["source"] = str(source)
    if not isinstance(cell.get("metadata"), dict):
        cell["metadata"] = {}
    # Only nbgrader's metadata is kept: the rest (and attachments) can carry
    # megabytes, or images and HTML that feedback and formgrader would show.
    cell["metadata"] = from_dict({k: v for k, v in cell["metadata"].items() if k == "nbgrader"})
    cell.pop("attachments", None)
    if cell.cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    # nbformat's rule for cell ids (1-64 of [a-zA-Z0-9-_]); anything else
    # would make every later step (feedback, formgrader) reject the notebook.
    if not isinstance(cell.get("id"), str) or not _CELL_ID.fullmatch(cell["id"]):
        cell["id"] = uuid.uuid4().hex[:8]
    return cell


class _Notes(logging.Handler):
    """Collects nbgrader's warnings about a submission as notes."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


class ShimOverwriteKernelspec(OverwriteKernelspec):
    """nbgrader's ``OverwriteKernelspec`` reading the spec, not the gradebook."""

    gradebook = None

    def preprocess(self, nb, resources):
        kernelspec = self.gradebook.spec.kernelspec
        if kernelspec:
            nb.metadata["kernelspec"] = dict(kernelspec)
        return nb, resources


class RestoringOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` on the spec, with a safer add-missing step."""

    shim = None

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = self.shim
        nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources

    def add_missing_grade_cells(self, nb, resources):
        # nbgrader's version looks up the previous source cell's position and
        # fails (KeyError) when that cell is missing too; insert after the
        # nearest earlier source cell that is present instead.
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [c.name for c in source_nb.source_cells]
        solution_ids = {c.name for c in source_nb.solution_cells}
        grade_cells = {c.name: c for c in source_nb.grade_cells}
        for position, name in enumerate(order):
            if name not in grade_cells:
                continue
            present = {c.metadata.nbgrader["grade_id"]: i for i, c in enumerate(nb.cells)
                       if (utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c))
                       and c.metadata.nbgrader.get("grade_id")}
            if name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", name)
            new = from_dict(self.missing_cell_transform(source_nb.source_cells[position],
                                                        grade_cells[name].max_score,
                                                        is_solution=name in solution_ids))
            new.setdefault("id", uuid.uuid4().hex[:8])
            at = 0
            for earlier in reversed(order[:position]):
                if earlier in present:
                    at = present[earlier] + 1
                    break
            nb.cells.insert(at, new)
        return nb, resources


def _validator():
    """nbgrader's metadata validator, remembering the metadata it passed.

    Why: ``jsonschema.validate`` checks nbgrader's schema itself on every
    call, ~5 ms a cell and a fifth of a submission's grading time; the cells
    of a class's notebooks share a handful of distinct metadata. A cell is
    valid or not by its type and its nbgrader metadata alone (nbgrader's
    checks read nothing else), so a pass is remembered by those; anything
    new is validated by nbgrader as before.
    """
    global _VALIDATOR
    if _VALIDATOR is None:
        import json

        from nbgrader.nbgraderformat import MetadataValidator

        class RememberingValidator(MetadataValidator):
            passed: set = set()

            def validate_cell(self, cell):
                meta = cell.get("metadata", {}).get("nbgrader")
                try:
                    key = (cell.get("cell_type"), json.dumps(meta, sort_keys=True))
                except (TypeError, ValueError):
                    key = None
                if key is not None and key in self.passed:
                    return
                super().validate_cell(cell)
                if key is not None and len(self.passed) < 10_000:
                    self.passed.add(key)

        _VALIDATOR = RememberingValidator
    return _VALIDATOR()


_VALIDATOR = None


class _CheckCellMetadata(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` with the remembering validator."""

    def preprocess(self, nb, resources):
        from nbgrader.nbgraderformat import ValidationError

        try:
            _validator().validate_nb(nb)
        except ValidationError:
            # nbgrader's own preprocessor logs and raises the same way
            return super().preprocess(nb, resources)
        return nb, resources


def _valid_metadata(cell) -> bool:
    try:
        validator = _validator()
        validator.upgrade_cell_metadata(cell)
        validator.validate_cell(cell)
        return True
    except Exception:
        return False


def _id(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def repair(nb: NotebookNode, spec: AssignmentSpec) -> list[str]:
    """Fix metadata and order in place (see the module docstring); return notes."""
    notes = []
    known = set(spec.order)
    by_name = {c.name: c for c in spec.source_cells}
    release = {(_id(c)): c for c in spec.release.cells if _id(c)}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        if not isinstance(meta, dict) or not _valid_metadata(cell):
            del cell.metadata["nbgrader"]
            notes.append(f"cell {i + 1} had corrupted nbgrader metadata (ignored)")
        elif meta.get("grade_id") and meta["grade_id"] not in known:
            notes.append(f"cell {i + 1} has an unknown id {meta['grade_id']!r} (treated as ordinary code)")
            del cell.metadata["nbgrader"]

    # Locked cells edited by the student (OverwriteCells restores them; its
    # own warning also fires for every release cell, whose hidden tests are
    # missing by design, so compare with the student version instead).
    for i, cell in enumerate(nb.cells):
        name = _id(cell)
        if name in release and by_name[name].locked and cell.source.strip() not in (
                release[name].source.strip(), by_name[name].source.strip()):
            kind = "test cell" if name in spec.grade_cells else "locked cell"
            notes.append(f"{kind} {name} was edited: restored from the source")

    # Recognise cells whose metadata was stripped.
    present = {_id(c) for c in nb.cells if _id(c)}
    recovered = 0
    texts = {}
    for name, rc in release.items():
        if name not in present and by_name[name].locked:
            texts.setdefault(rc.source.strip(), name)
            texts.setdefault(by_name[name].source.strip(), name)
    for cell in nb.cells:
        if _id(cell) is None and cell.source.strip() in texts:
            name = texts.pop(cell.source.strip())
            cell.metadata["nbgrader"] = from_dict(dict(release[name].metadata["nbgrader"]))
            present.add(name)
            recovered += 1
    # Answer cells: match by position between recognised cells.
    order = spec.order
    positions = {_id(c): i for i, c in enumerate(nb.cells) if _id(c)}
    missing = [n for n in order if n not in positions and n in spec.solution_ids]

    def gap(name):
        k = order.index(name)
        lo = next((positions[n] for n in reversed(order[:k]) if n in positions), -1)
        hi = next((positions[n] for n in order[k + 1:] if n in positions), len(nb.cells))
        return lo, hi

    assigned = set()
    for name in missing:
        lo, hi = gap(name)
        kind = by_name[name].cell_type
        same_gap = [n for n in missing if gap(n) == (lo, hi) and by_name[n].cell_type == kind]
        candidates = [i for i in range(lo + 1, hi) if (_id(nb.cells[i]) is None or i in assigned)
                      and nb.cells[i].cell_type == kind and nb.cells[i].source.strip()]
        if candidates and len(candidates) == len(same_gap):
            i = candidates[same_gap.index(name)]
            nb.cells[i].metadata["nbgrader"] = from_dict(dict(release[name].metadata["nbgrader"]))
            assigned.add(i)
            recovered += 1
    if recovered:
        notes.append(f"nbgrader metadata of {recovered} cell(s) was missing and was restored")

    # Put moved locked cells back after the cell they follow in the source.
    positions = [(order.index(_id(c)), i) for i, c in enumerate(nb.cells) if _id(c) in known]
    ranks = [r for r, _ in positions]
    if ranks != sorted(ranks):
        locked = {n for n in order if by_name[n].locked}
        moved = [c for c in nb.cells if _id(c) in locked]
        rest = [c for c in nb.cells if _id(c) not in locked]
        for cell in sorted(moved, key=lambda c: order.index(_id(c))):
            k = order.index(_id(cell))
            at = 0
            for j, other in enumerate(rest):
                if _id(other) in known and order.index(_id(other)) < k:
                    at = j + 1
            rest.insert(at, cell)
        nb.cells = rest
        notes.append("cells were out of order: the test cells were put back after their answers")
    return notes


def sanitize(nb: NotebookNode, spec: AssignmentSpec, config=None) -> tuple[NotebookNode, list[str]]:
    """Restore locked cells, points and kernel from the source (see module doc).

    Returns the sanitized notebook (a new object) and notes on what changed.
    """
    import copy

    nb = copy.deepcopy(nb)
    log = logging.getLogger(f"autograder.sanitize.{id(nb)}")
    log.propagate = False
    handler = _Notes()
    log.handlers = [handler]
    shim = SourceGradebook(spec)
    resources = {"nbgrader": {"notebook": spec.name, "assignment": spec.name, "db_url": None}}
    notes = []
    nb, resources = ClearOutput(config=config, log=log)(nb, resources)
    nb, resources = DeduplicateIds(config=config, log=log)(nb, resources)
    notes += repair(nb, spec)
    kernelspec = ShimOverwriteKernelspec(config=config, log=log)
    kernelspec.gradebook = shim
    nb, resources = kernelspec(nb, resources)
    overwrite = RestoringOverwriteCells(config=config, log=log)
    overwrite.add_missing_cells = True  # an honest student never loses a test cell
    overwrite.shim = shim
    nb, resources = overwrite(nb, resources)
    nb, resources = _CheckCellMetadata(config=config, log=log)(nb, resources)
    for message in handler.records:
        notes.append(_describe(message))
    return nb, list(dict.fromkeys(n for n in notes if n))


def _describe(message: str) -> str:
    """nbgrader's log line -> a note for the student."""
    import re

    m = re.match(r"Attribute '(\w+)' for cell (\S+) has changed", message)
    if m:
        attr, cell = m.groups()
        if attr == "checksum":
            return ""  # reported by repair(), which knows the student version
        what = {"points": "had its points changed",
                "locked": "was unlocked", "cell_type": "had its type changed"}.get(attr, f"changed {attr}")
        return f"test cell {cell} {what}: restored from the source"
    m = re.match(r"Missing grade cell (\S+) encountered", message)
    if m:
        return f"cell {m.group(1)} was missing: added back from the source"
    m = re.match(r"Cell with id '(\S+)' exists multiple times", message)
    if m:
        return f"cell {m.group(1)} was duplicated: only the last copy is graded"
    if "does not exist in the database" in message:
        return ""
    return message
