"""Self-study from inside Jupyter: ``from autograder.notebook import check; check()``.

A learner's kernel (a real ipykernel, started by nbclient as JupyterLab
would) grades a saved notebook with the same judgement as the command line
and prints the table and the progress line.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[1] / "exercises" / "source" / "hedging" / "hedging.ipynb"


def test_check_from_a_notebook_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the kernel inherits it
    mine = tmp_path / "hedging.ipynb"
    mine.write_bytes(SOURCE.read_bytes())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"from autograder.notebook import check\ncheck({str(mine)!r})")])
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("output_type") == "stream")
    assert "hedging: 13 / 13 autograded points" in text, text
    assert "q3-hedged-properties" in text and "progress (best autograded score so far): " in text
    assert "hedging 13/13" in text
    assert (tmp_path / "data" / "factor-models-course" / "progress.json").is_file()


def test_check_without_a_path_says_what_to_do(monkeypatch):
    from autograder import notebook

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr(notebook, "current_notebook", lambda: None)
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        notebook.check()
    assert "check('my-notebook.ipynb')" in buf.getvalue()
    assert os.environ.get("JPY_SESSION_NAME") is None


def test_check_as_a_plain_process_where_there_is_no_sandbox(tmp_path, monkeypatch):
    """A learner's machine without bubblewrap: the runner is a plain child
    process (started before the course is read, as the box is), and the
    answers are still judged outside it."""
    from autograder import check

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    mine = tmp_path / "hedging.ipynb"
    mine.write_bytes(SOURCE.read_bytes())
    result = check.check(mine, sandbox=False)
    assert result.status == "ok" and result.score == result.max_score == 13
    blank = nbformat.read(str(SOURCE), as_version=4)
    for cell in blank.cells:  # the answers removed: every question fails
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source and "TICKER" not in cell.source:
            cell.source = "pass"
    nbformat.write(blank, str(mine))
    assert check.check(mine, sandbox=False).score == 0
