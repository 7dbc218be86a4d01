"""A tiny nbgrader course for the engine's own tests (fast: no statsmodels).

``make_course(root)`` writes ``nbgrader_config.py`` and
``source/demo/demo.ipynb``: a choice cell, two answer cells each followed by
a locked test cell with a hidden part, and a written answer graded by hand.
``solution(spec)`` and helpers build submissions from it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
HIDDEN_Q1 = "assert x == 2, 'x is not the number of legs of a bird'"
HIDDEN_Q2 = "assert abs(v - 1.0) < 1e-12, 'v: use the sample variance (ddof=1)'"


def _meta(cell, **nbgrader):
    cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return cell


def demo_notebook():
    cells = [
        _meta(new_markdown_cell("# Demo\nAnswer the questions."),
              solution=False, grade=False, locked=True, grade_id="intro"),
        _meta(new_code_cell("### BEGIN SOLUTION\nTICKER = 'KO'\n### END SOLUTION"),
              solution=True, grade=False, locked=False, grade_id="choice"),
        _meta(new_code_cell("### BEGIN SOLUTION\nx = 2\n### END SOLUTION"),
              solution=True, grade=False, locked=False, grade_id="a1"),
        _meta(new_code_cell("assert isinstance(x, int), 'x should be an int'\n"
                            f"### BEGIN HIDDEN TESTS\n{HIDDEN_Q1}\n### END HIDDEN TESTS"),
              solution=False, grade=True, locked=True, grade_id="q1", points=2),
        _meta(new_code_cell("### BEGIN SOLUTION\nv = sum((t - 2.0) ** 2 for t in (1.0, 2.0, 3.0)) / 2\n"
                            "### END SOLUTION"),
              solution=True, grade=False, locked=False, grade_id="a2"),
        _meta(new_code_cell("assert v > 0\n### BEGIN HIDDEN TESTS\n"
                            f"{HIDDEN_Q2}\n### END HIDDEN TESTS"),
              solution=False, grade=True, locked=True, grade_id="q2", points=3),
        _meta(new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
              solution=True, grade=True, locked=False, grade_id="written", points=1),
    ]
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})


def make_course(root) -> Path:
    root = Path(root)
    (root / "source" / "demo").mkdir(parents=True, exist_ok=True)
    shutil.copy(EXERCISES / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(demo_notebook(), root / "source" / "demo" / "demo.ipynb")
    return root


def cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def submission(answer_a2=None, answer_a1=None):
    """The solution notebook, optionally with other code in a1/a2."""
    nb = demo_notebook()
    if answer_a1 is not None:
        nb.cells[cell_index(nb, "a1")].source = answer_a1
    if answer_a2 is not None:
        nb.cells[cell_index(nb, "a2")].source = answer_a2
    return nb


def raw(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")
