"""Execute the book's notebook pages in parallel into myst-nb's execution cache.

Jupyter Book 1.x executes notebooks one after the other while Sphinx reads
them, and has no option to run them in parallel. ``make book`` therefore
runs this script first: it reads each page of ``_toc.yml`` exactly as myst-nb
does, asks the jupyter-cache in ``_build/.jupyter_cache`` whether that code
was already executed, and executes the missing ones in a pool of worker
processes (one per core), storing them in the cache the way myst-nb's
``execute_notebooks: cache`` mode does. The Sphinx build that follows then
finds every page cached. Nothing is skipped: a page whose code changed is
executed from scratch, and a failing cell fails this step (with the cell and
its traceback) just as it would fail the book build.

The worked solutions are small notebooks whose cost is mostly a kernel's
start-up and imports; they run one after the other in one kernel, each from a
fresh namespace (``%reset -f``), and are stored in the cache one by one.

If a page's cache key ever differed from myst-nb's, Sphinx would simply
execute that page again: the result is the same, only slower.

Usage::

    python book/_scripts/execute_pages.py [--jobs N]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
from myst_parser.config.main import MdParserConfig

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "_build" / ".jupyter_cache"
MYST_READ_FMT = {"type": "plugin", "name": "myst_nb_md"}  # what myst-nb records
#: Pages executed together in one kernel (see the module docstring).
SHARED_KERNEL = "book/_generated/solutions/*"
RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


def toc_names() -> list[str]:
    """Every page named in _toc.yml (root included), as written there, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return names


def toc_pages() -> list[Path]:
    """Source files of the pages named in _toc.yml, in order (missing ones left out)."""
    pages = []
    for name in toc_names():
        for suffix in ("", ".md", ".ipynb"):
            path = ROOT / f"{name}{suffix}"
            if path.is_file():
                pages.append(path)
                break
    return pages


def execution_settings() -> tuple[list[str], int]:
    """Exclude patterns and per-cell timeout from _config.yml's ``execute``."""
    execute = yaml.safe_load((ROOT / "_config.yml").read_text()).get("execute", {})
    return list(execute.get("exclude_patterns", [])), int(execute.get("timeout", 30))


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode, dict | None] | None:
    """The notebook myst-nb would build from ``path`` (None: not a notebook)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return nbformat.reads(text, as_version=4), None
    if path.suffix == ".md" and is_myst_markdown_notebook(text):
        nb = read_myst_markdown_notebook(text, config=MdParserConfig(), add_source_map=True, path=str(path))
        return nb, MYST_READ_FMT
    return None


#: How a kernel is stopped once its page is done. With every output already
#: received there is nothing left to wait for; a graceful shutdown would have
#: the kernel tear down its namespace and modules first, about a second of CPU
#: per page (numpy, pandas, statsmodels and matplotlib are loaded).
SHUTDOWN = {"shutdown_kernel": "immediate"}


def _execute(job: tuple[str, nbformat.NotebookNode, int]):
    path, nb, timeout = job
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True, **SHUTDOWN)
    return path, nb, result.time, (result.exc_string if result.err is not None else None)


def _execute_together(jobs: list[tuple[str, nbformat.NotebookNode, int]]):
    """Execute notebooks one after the other in one kernel, each in a fresh namespace."""
    combined = nbformat.v4.new_notebook(metadata=copy.deepcopy(jobs[0][1].metadata))
    spans = []
    for _path, nb, _timeout in jobs:
        combined.cells.append(nbformat.v4.new_code_cell(RESET))
        start = len(combined.cells)
        combined.cells.extend(copy.deepcopy(nb.cells))
        spans.append((start, len(combined.cells)))
    result = single_nb_execution(combined, cwd=str(Path(jobs[0][0]).parent),
                                 timeout=max(t for _, _, t in jobs), allow_errors=False,
                                 meta_override=True, **SHUTDOWN)
    error = result.exc_string if result.err is not None else None
    done = []
    for (path, nb, _timeout), (start, end) in zip(jobs, spans):
        nb.cells = combined.cells[start:end]
        if "language_info" in combined.metadata:
            nb.metadata["language_info"] = combined.metadata["language_info"]
        done.append((path, nb, result.time / len(jobs), error))
    return done


def _execute_one(job: tuple[str, nbformat.NotebookNode, int]):
    return [_execute(job)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {args.jobs}")

    excludes, timeout = execution_settings()
    cache = get_cache(str(CACHE))
    todo, read_fmts = [], {}
    for path in toc_pages():
        if any(PurePosixPath(path.as_posix()).match(p) for p in excludes):
            continue
        read = read_notebook(path)
        if read is None:
            continue
        nb, read_fmts[str(path)] = read
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            todo.append((str(path), nb, timeout))
    if not todo:
        print("execute_pages: every page is in the execution cache")
        return 0

    start = time.perf_counter()
    failed = []
    together = [job for job in todo if PurePosixPath(Path(job[0]).relative_to(ROOT).as_posix()).match(SHARED_KERNEL)]
    # Longest first, so that no long page starts last while the other worker
    # idles; a page's code length stands in for its cost (the shared kernel
    # runs six pages and goes first).
    alone = sorted((job for job in todo if job[0] not in {j[0] for j in together}),
                   key=lambda job: -sum(len(c.source) for c in job[1].cells if c.cell_type == "code"))
    tasks = ([(_execute_together, together)] if together else []) + [(_execute_one, job) for job in alone]
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(tasks))) as pool:
        futures = [pool.submit(fn, arg) for fn, arg in tasks]
        results = [item for future in futures for item in future.result()]
        for path, nb, seconds, error in results:
            name = Path(path).relative_to(ROOT).as_posix()
            if error is not None:
                failed.append(f"{name}:\n{error}")
                continue
            fmt = read_fmts[path]
            record = cache.add_nb_to_project(path, read_data=fmt) if fmt else cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True,
            )
            print(f"execute_pages: {name} executed in {seconds:.1f} s")
    print(f"execute_pages: {len(todo) - len(failed)} of {len(todo)} pages in "
          f"{time.perf_counter() - start:.1f} s with {min(args.jobs, len(tasks))} workers")
    if failed:
        print("execute_pages: FAILED\n" + "\n\n".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
