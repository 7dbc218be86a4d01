"""Put the course's assignments into the book, as students get them and solved.

``make book`` runs this before the Sphinx build. For each assignment
``exercises/source/<name>/<name>.ipynb`` it writes two notebooks into the
gitignored folder ``book/_generated/``:

``assignments/<name>.ipynb``
    The student version exactly as nbgrader releases it
    (``exercises/release/<name>/<name>.ipynb``; regenerated with
    ``autograder release`` -- or ``nbgrader generate_assignment`` where that
    subcommand is not available -- whenever the source is newer). The book
    shows it without executing it; its download button gives the very file a
    student submits.
``solutions/<name>-solution.ipynb``
    The worked solution for self-study: the instructor's source with the
    hidden tests removed (nbgrader's own ``ClearHiddenTests`` and
    ``ClearMarkScheme`` preprocessors), outputs cleared, and the
    ``### BEGIN/END SOLUTION`` marker lines dropped. The book executes it
    (``execute_pages.py``, like the chapters), so it shows its numbers.

Files are rewritten only when their content changes, so a rebuild with
nothing changed re-reads nothing. A missing source notebook is skipped with a
warning and a placeholder page (so the rest of the book still builds while
the assignments are being written); ``--strict`` turns that into an error,
and the book's tests fail on placeholders.

Usage::

    python book/_scripts/export_assignments.py [--strict] [NAME ...]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # model_answers
from nbconvert.preprocessors import ClearOutputPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "exercises"
OUT = ROOT / "book" / "_generated"

#: The course's assignments, in teaching order (same names as exercises/source).
ASSIGNMENTS = ("alpha-beta", "hedging", "risk-budgets", "variance-shares", "five-tickers", "many-factors")

#: Text that must never reach a page a student can read.
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME")
#: nbgrader's solution delimiters, dropped from the worked solutions.
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

PLACEHOLDER_MARK = "assignment-placeholder"
PLACEHOLDER = """# {name} (not available yet)

```{{warning}}
:class: {mark}
The source notebook `exercises/source/{name}/{name}.ipynb` does not exist yet,
so this page is a placeholder written by `book/_scripts/export_assignments.py`.
```
"""


def source_path(name: str) -> Path:
    return COURSE / "source" / name / f"{name}.ipynb"


def release_path(name: str) -> Path:
    return COURSE / "release" / name / f"{name}.ipynb"


def _env() -> dict[str, str]:
    """The environment with the venv's bin first: nbgrader runs `alembic` by name."""
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def _autograder_release_available() -> Path | None:
    """The course's ``autograder`` command when it has a ``release`` subcommand."""
    exe = Path(sys.executable).with_name("autograder")
    if not exe.exists():
        return None
    probe = subprocess.run([str(exe), "release", "--help"], capture_output=True, cwd=ROOT, env=_env())
    return exe if probe.returncode == 0 else None


def is_stale(name: str) -> bool:
    """Whether the released notebook is missing or older than its inputs."""
    src, rel = source_path(name), release_path(name)
    config = COURSE / "nbgrader_config.py"
    newest_input = max(p.stat().st_mtime for p in (src, config) if p.exists())
    return not rel.exists() or rel.stat().st_mtime < newest_input


def release(names: list[str]) -> None:
    """Generate the student versions of ``names`` into exercises/release/.

    One ``autograder release NAME ...`` call where the course's command has
    that subcommand, else one ``nbgrader generate_assignment`` per name.
    """
    if not names:
        return
    exe = _autograder_release_available()
    if exe is not None:
        calls = [([str(exe), "release", *names], ROOT)]
    else:
        nbgrader = str(Path(sys.executable).with_name("nbgrader"))
        calls = [([nbgrader, "generate_assignment", n, "--force"], COURSE) for n in names]
    for cmd, cwd in calls:
        print(f"export_assignments: {Path(cmd[0]).name} {' '.join(cmd[1:])}")
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env())
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    missing = [n for n in names if not release_path(n).exists()]
    if missing:
        raise RuntimeError(f"no released notebook for {missing} after releasing them")


def worked_solution(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The instructor's notebook without hidden tests, mark schemes or outputs."""
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for pre in (ClearHiddenTests(), ClearMarkScheme(), ClearOutputPreprocessor()):
        nb, resources = pre.preprocess(nb, resources)
    for cell in nb.cells:
        lines = cell.source.split("\n")
        cell.source = "\n".join(l for l in lines if l.strip() not in SOLUTION_MARKERS)
    # After each written answer's mark scheme, a model answer computed from
    # the notebook's own numbers (book/_scripts/model_answers.py).
    from model_answers import MODEL_ANSWERS

    cells = []
    for cell in nb.cells:
        cells.append(cell)
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "markdown" and gid in MODEL_ANSWERS:
            cells.append(nbformat.v4.new_code_cell(MODEL_ANSWERS[gid], metadata={"tags": ["remove-input"]}))
    nb.cells = cells
    # The page title says what the page is, so it differs from the student page.
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            head, _, rest = cell.source.lstrip().partition("\n")
            cell.source = f"# Worked solution to {head[2:].strip()}\n{rest}"
            break
    return nb


def assert_no_hidden_text(nb: nbformat.NotebookNode, where: str) -> None:
    for i, cell in enumerate(nb.cells):
        for marker in HIDDEN_MARKERS:
            if marker in cell.source:
                raise RuntimeError(f"{where}: cell {i} still contains {marker!r}")


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _remove_other_suffixes(path: Path) -> None:
    """Drop a stale placeholder (.md) or notebook (.ipynb) of the same page."""
    for other in path.parent.glob(path.stem + ".*"):
        if other != path:
            other.unlink()


def export(name: str, strict: bool) -> str:
    student = OUT / "assignments" / f"{name}.ipynb"
    solution = OUT / "solutions" / f"{name}-solution.ipynb"
    if not source_path(name).exists():
        message = f"export_assignments: WARNING: {source_path(name).relative_to(ROOT)} is missing"
        if strict:
            raise SystemExit(message)
        print(message + "; writing a placeholder page", file=sys.stderr)
        for page in (student, solution):
            md = page.with_suffix(".md")
            _remove_other_suffixes(md)
            write_if_changed(md, PLACEHOLDER.format(name=name, mark=PLACEHOLDER_MARK))
        return "placeholder"

    released = nbformat.read(release_path(name), as_version=4)
    assert_no_hidden_text(released, f"released {name}")
    solved = worked_solution(nbformat.read(source_path(name), as_version=4))
    assert_no_hidden_text(solved, f"worked solution {name}")

    changed = False
    for page, nb in ((student, released), (solution, solved)):
        _remove_other_suffixes(page)
        changed |= write_if_changed(page, nbformat.writes(nb) + "\n")
    return "updated" if changed else "unchanged"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(ASSIGNMENTS), help="assignments to export")
    parser.add_argument("--strict", action="store_true", help="fail when a source notebook is missing")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(ASSIGNMENTS))
    if unknown:
        parser.error(f"unknown assignment(s) {unknown}; expected some of {list(ASSIGNMENTS)}")
    release([n for n in args.names if source_path(n).exists() and is_stale(n)])
    status = {name: export(name, args.strict) for name in args.names}
    print("export_assignments: " + ", ".join(f"{k} {v}" for k, v in status.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
