"""Grading throughput and latency: ``autograder`` against stock nbgrader (issue 5).

1. Throughput. A class of ``--students`` (default 60) five-tickers
   submissions is generated from the real notebooks
   (``tests/bad_submissions.five_ticker_class``: random ticker choices, one
   in three fully correct, the others with one or two planted wrong answers,
   one student per common mistake). The same files are graded twice, each in
   its own fresh copy of the course directory:

   * stock, sequential ``nbgrader autograde five-tickers`` (after
     ``nbgrader generate_assignment five-tickers`` creates the gradebook);
   * ``autograder grade five-tickers --jobs N``.

   The scores are compared per student and question (nbgrader's gradebook
   against our ``grades.csv``) and the wall times and the throughput ratio
   (stock time / our time) are printed. Target (issue 8): >= 3 on 2 cores,
   with full isolation (each submission in its own bubblewrap box, judged
   outside it).

2. Latency. ``autograder check --json`` on one correct notebook (median of
   ``--repeat`` runs, wall time of the whole command) against the floor: the
   same notebook with its hidden tests (the source notebook) executed by
   ``nbclient.NotebookClient`` in this process, kernel start included.
   Target: within 1.5x of the floor.

Usage::

    .venv/bin/python benchmarks/grading.py [--students 60] [--jobs 2] [--keep DIR]

This is a measurement script, not a test; it takes several minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import bad_submissions as bs  # noqa: E402

A = "five-tickers"
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


def fresh_course(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "exercises" / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(ROOT / "exercises" / "source", dest / "source")
    return dest


def run(cmd, cwd=None, timeout=7200):
    # nbgrader runs `alembic` from PATH: put the venv's bin first, as an
    # activated environment would
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    t0 = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dt, proc


def stock_scores(course: Path, students, qids) -> dict:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for s in students:
            out[s] = {q: float(gb.find_grade(q, A, A, s).score) for q in qids}
    return out


def our_scores(course: Path, students, qids) -> dict:
    rows = bs.read_grades(course, A)
    return {s: {q: bs.num(rows[s][q]) for q in qids} for s in students}


def throughput(work: Path, n: int, jobs: int, timeout: int):
    base = fresh_course(work / "template")
    run([NBGRADER, "generate_assignment", A, "--force"], cwd=base)
    subs = bs.five_ticker_class(base, n=n)
    questions = bs.questions(bs.read_nb(bs.source_path(base, A)))
    qids = [q.grade_id for q in questions]
    maxima = {q.grade_id: q.points for q in questions}

    stock = fresh_course(work / "stock")
    run([NBGRADER, "generate_assignment", A], cwd=stock)
    ours = fresh_course(work / "ours")
    run([sys.executable, "-m", "autograder", "release", A, "--course", ours])
    for course in (stock, ours):
        for s, data in subs.items():
            bs.submit(course, s, A, data)

    t_stock, _ = run([NBGRADER, "autograde", A], cwd=stock)
    t_ours, proc = run([sys.executable, "-m", "autograder", "grade", A, "--course", ours,
                        "--jobs", jobs, "--timeout", timeout])
    s_stock = stock_scores(stock, sorted(subs), qids)
    s_ours = our_scores(ours, sorted(subs), qids)
    # Scores must be identical on fully correct submissions; elsewhere ours
    # gives points per item (stock nbgrader scores a test cell all or
    # nothing), so ours may only be higher, never lower.
    correct = [s for s in sorted(subs) if all(s_stock[s][q] == maxima[q] for q in qids)]
    diffs = [(s, q, s_stock[s][q], s_ours[s][q]) for s in correct for q in qids
             if abs(s_stock[s][q] - s_ours[s][q]) > 1e-9]
    lower = [(s, q, s_stock[s][q], s_ours[s][q]) for s in sorted(subs) for q in qids
             if s_ours[s][q] < s_stock[s][q] - 1e-9]
    partial = sum(s_ours[s][q] - s_stock[s][q] for s in sorted(subs) for q in qids)
    full = sum(all(s_ours[s][q] > 0 for q in qids) for s in subs)
    return dict(n=len(subs), questions=len(qids), t_stock=t_stock, t_ours=t_ours, diffs=diffs,
                lower=lower, correct=len(correct), partial=partial, full=full, summary=proc.stdout)


def latency(work: Path, repeat: int, timeout: int):
    import nbformat
    from nbclient import NotebookClient

    course = fresh_course(work / "latency")
    run([sys.executable, "-m", "autograder", "release", A, "--course", course])
    source = bs.read_nb(bs.source_path(course, A))
    nb_path = work / "latency-one.ipynb"
    nb_path.write_bytes(bs.nb_bytes(bs.solved(source, bs.read_nb(bs.release_path(course, A)))))

    floors, checks = [], []
    for _ in range(repeat):
        nb = nbformat.read(str(bs.source_path(course, A)), as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
        floors.append(time.perf_counter() - t0)
        t, _ = run([sys.executable, "-m", "autograder", "check", nb_path, "--json"])
        checks.append(t)
    return dict(floor=statistics.median(floors), check=statistics.median(checks),
                floors=floors, checks=checks)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the latency measurement (median)")
    ap.add_argument("--timeout", type=int, default=120, help="per-cell timeout given to autograder")
    ap.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args(argv)
    if args.students < 1:
        ap.error("--students must be positive")

    work = args.keep or Path(tempfile.mkdtemp(prefix="grading-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"cores: {os.cpu_count()}  jobs: {args.jobs}  work: {work}")
        if not args.skip_throughput:
            t = throughput(work, args.students, args.jobs, args.timeout)
            ratio = t["t_stock"] / t["t_ours"]
            print()
            print(f"{'grading ' + str(t['n']) + ' five-tickers submissions':44s} {'wall s':>8s} {'s/nb':>7s}")
            print(f"{'stock nbgrader autograde (sequential)':44s} {t['t_stock']:8.1f} {t['t_stock'] / t['n']:7.2f}")
            print(f"{'autograder grade --jobs ' + str(args.jobs):44s} {t['t_ours']:8.1f} {t['t_ours'] / t['n']:7.2f}")
            print(f"{'throughput ratio (target >= 3)':44s} {ratio:8.2f}")
            print(f"{'identical on the fully correct submissions':44s} "
                  f"{'yes' if not t['diffs'] else 'NO: ' + str(len(t['diffs'])) + ' differ'}"
                  f"  ({t['correct']} students x {t['questions']} questions)")
            print(f"{'never lower than stock (any submission)':44s} "
                  f"{'yes' if not t['lower'] else 'NO: ' + str(len(t['lower'])) + ' lower'}"
                  f"  (points per item: {t['partial']:g} more points in all)")
            for d in (t["diffs"] + t["lower"])[:10]:
                print("   differs:", d)
        lat = latency(work, args.repeat, args.timeout)
        print()
        print(f"{'one notebook':44s} {'median s':>8s}  runs")
        print(f"{'nbclient execute (floor)':44s} {lat['floor']:8.2f}  {' '.join(f'{x:.2f}' for x in lat['floors'])}")
        print(f"{'autograder check --json (whole command)':44s} {lat['check']:8.2f}  {' '.join(f'{x:.2f}' for x in lat['checks'])}")
        print(f"{'check / floor (target <= 1.5)':44s} {lat['check'] / lat['floor']:8.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
