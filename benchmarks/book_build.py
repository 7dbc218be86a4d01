"""How long the book takes to build: clean, unchanged, and per chapter.

Measures what a reader of the README types, ``make book``:

1. a clean build: ``_build/`` (site and jupyter-cache) and
   ``book/_generated/`` removed, so every page executes; installs excluded
   (the venv and MathJax are set up first, untimed);
2. a rebuild with nothing changed (everything comes from the cache);
3. the execution time of each page, as jupyter-cache recorded it during
   the clean build (two pages run at a time), and each page executed alone,
   with its kernel's CPU time (kernel start-up included in both).

Targets (from the book's issue): clean build well under 60 s on 2 cores,
no-change rebuild under 5 s, no chapter over 10 s. The script prints the
figures and, with ``--check``, exits 1 when a target is missed.

Usage::

    .venv/bin/python benchmarks/book_build.py [--check]

It deletes ``_build/`` (the built site, cache and screenshots) and
``book/_generated/``, and leaves a fresh build behind. Run it on an otherwise idle machine: the figures are
wall-clock times.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
GENERATED = ROOT / "book" / "_generated"

CLEAN_TARGET_S = 60.0
REBUILD_TARGET_S = 5.0
CHAPTER_TARGET_S = 10.0


def make(*targets: str) -> tuple[float, float, str]:
    """Run ``make TARGETS`` at the repository root (see :func:`run`)."""
    return run(["make", *targets])


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` at the repository root.

    Returns the wall time and the CPU time (user + system, of make and every
    process it waited for: Sphinx, the workers, the kernels), in seconds. On
    a machine shared with other work the wall time grows and the CPU time
    hardly does; CPU time / cores is a floor for the wall time on an idle
    machine (the serial parts of the build add to it).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, done.stdout + done.stderr


def execution_times() -> dict[str, float]:
    """Seconds jupyter-cache recorded for executing each page, by page path."""
    from jupyter_cache import get_cache

    records = get_cache(str(CACHE)).list_cache_records()
    return {
        Path(r.uri).relative_to(ROOT).as_posix(): float(r.data.get("execution_seconds", float("nan")))
        for r in records
    }


def serial_page_costs() -> dict[str, tuple[float, float]]:
    """Execute each page alone, one after the other: (wall s, kernel CPU s).

    The kernel's CPU time (start-up, imports and the page's own work) does
    not depend much on what else the machine is doing, unlike wall time.
    """
    sys.path.insert(0, str(ROOT / "book" / "_scripts"))
    from execute_pages import SHUTDOWN, execution_settings, read_notebook, toc_pages
    from jupyter_cache.executors.utils import single_nb_execution
    from pathlib import PurePosixPath

    excludes, timeout = execution_settings()
    costs = {}
    for path in toc_pages():
        if any(PurePosixPath(path.as_posix()).match(p) for p in excludes):
            continue
        read = read_notebook(path)
        if read is None:
            continue
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = single_nb_execution(read[0], cwd=str(path.parent), timeout=timeout, allow_errors=False,
                                     **SHUTDOWN)  # as make book runs it
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.err is not None:
            sys.exit(f"{path} failed:\n{result.exc_string}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        costs[path.relative_to(ROOT).as_posix()] = (wall, cpu)
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time `make book`: clean, unchanged, per chapter.")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    # Untimed set-up: the venv, MathJax from npm, matplotlib's font cache.
    make("venv", "node_modules/mathjax/es5/tex-mml-chtml.js")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    shutil.rmtree(BUILD, ignore_errors=True)
    shutil.rmtree(GENERATED, ignore_errors=True)
    clean = make("book")
    rebuild = make("book")
    # What Sphinx itself costs when nothing changed (make skips it entirely).
    sphinx_noop = run([str(ROOT / ".venv" / "bin" / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"])
    chapters = execution_times()
    parallel = [l for l in clean[2].splitlines() if l.startswith("execute_pages:") and " pages in " in l]

    print(f"make book on {os.cpu_count()} cores (1-min load average before the clean build: {load:.1f})")
    print(f"  clean build (execution included): {clean[0]:6.1f} s wall, {clean[1]:6.1f} s CPU"
          f"   target < {CLEAN_TARGET_S:.0f} s")
    if parallel:
        print(f"    of which executing the pages: {parallel[-1].split(': ', 1)[1]}")
    print(f"  `jupyter-book build` with nothing to do (make skips it): "
          f"{sphinx_noop[0]:.1f} s wall, {sphinx_noop[1]:.1f} s CPU")
    print(f"  rebuild, nothing changed:         {rebuild[0]:6.1f} s wall, {rebuild[1]:6.1f} s CPU"
          f"   target < {REBUILD_TARGET_S:.0f} s")
    print(f"  execution per page (jupyter-cache; two run at a time), target < {CHAPTER_TARGET_S:.0f} s each:")
    for page, seconds in sorted(chapters.items()):
        flag = "  <-- over target" if seconds > CHAPTER_TARGET_S else ""
        print(f"    {page:50s} {seconds:6.1f} s{flag}")
    print(f"    {'total':50s} {sum(chapters.values()):6.1f} s")
    serial = serial_page_costs()
    print("  each page executed alone (wall / kernel CPU), target < 10 s each:")
    for page, (wall, cpu) in sorted(serial.items()):
        flag = "  <-- over target" if wall > CHAPTER_TARGET_S else ""
        print(f"    {page:50s} {wall:6.1f} s / {cpu:5.1f} s CPU{flag}")

    missed = (
        clean[0] >= CLEAN_TARGET_S
        or rebuild[0] >= REBUILD_TARGET_S
        or any(wall > CHAPTER_TARGET_S for wall, _ in serial.values())
    )
    if missed:
        print("at least one target missed")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
