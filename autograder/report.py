"""``reports/<assignment>/``: grades.csv, summary.txt and summary.png.

``grades.csv`` has one row per student, sorted by student id, with the
columns ``student``, one per graded cell (its grade_id, in notebook order;
empty while a written answer awaits the instructor), ``autograded_score``,
``autograded_max``, ``manual_pending`` (points still to be graded by hand),
``status`` (``ok``, ``timeout``, ``kernel-died``, ``invalid``, ``missing``,
``error``) and ``flags`` (semicolon-separated: tampering flags start with
``flagged:``, the rest are notes such as restored cells). When the results
carry ``"late"`` (:func:`autograder.deadlines.lateness`), ``submitted``
(UTC), ``hours_late`` and ``late_penalty`` come before ``status``. It
depends only on the submissions, so regrading gives the same file.
"""

from __future__ import annotations

import csv
import io
import math
import textwrap
import statistics
from collections import Counter

from .collect import atomic_write
from .text import clean_str, csv_cell


def _num(x) -> str:
    return "" if x is None else f"{float(x):g}"


def _max_total(spec) -> float:
    """All points of the assignment, autograded and by hand."""
    return float(sum(c.max_score for c in spec.grade_cells.values()))


def grades_csv(spec, results) -> str:
    ids = [n for n in spec.order if n in spec.grade_cells]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    late = any(d.get("late") for d in results)  # autograder.deadlines.lateness(), from the batch
    writer.writerow(["student", *ids, "autograded_score", "autograded_max", "manual_score", "manual_pending",
                     *(["submitted", "hours_late", "late_penalty"] if late else []),
                     "total", "max_total", "status", "flags"])
    for data in sorted(results, key=lambda d: d["student"]):
        by_id = {q["id"]: q for q in data["questions"]}
        info = data.get("late") or {}
        total = data.get("total", sum(q["points"] or 0.0 for q in data["questions"]))
        total = max(0.0, total - float(info.get("late_penalty", 0) or 0))
        writer.writerow([csv_cell(data["student"]), *[_num(by_id.get(i, {}).get("points")) for i in ids],
                         _num(data["score"]), _num(data["max_score"]), _num(data.get("manual_score", 0)),
                         _num(data.get("manual_pending", 0)),
                         *([csv_cell(info.get("submitted") or ""), f"{info.get('seconds_late', 0) / 3600:.2f}",
                            _num(info.get("late_penalty", 0))] if late else []),
                         _num(total), _num(_max_total(spec)), csv_cell(data["status"]),
                         csv_cell("; ".join(clean_str(f).replace(";", ",") for f in data.get("flags", [])))])
    return buf.getvalue()


def summary_text(spec, results) -> str:
    n = len(results)
    auto = [i for i in spec.autograded_ids]
    max_auto = sum(spec.grade_cells[i].max_score for i in auto)
    scores = [d["score"] for d in results]
    lines = [f"{spec.name}: {n} submission(s)"]
    counts = Counter(d["status"] for d in results)
    lines.append("status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if scores:
        lines.append(f"autograded score (of {max_auto:g}): mean {statistics.mean(scores):.2f}, "
                     f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}")
    late = [d["late"] for d in results if (d.get("late") or {}).get("seconds_late", 0) > 0]
    if late:
        lines.append(f"late: {len(late)} submission(s), penalties {sum(x.get('late_penalty', 0) for x in late):g} "
                     "points in all")
    flagged = sum(any(f.startswith("flagged:") for f in d.get("flags", [])) for d in results)
    lines.append(f"flagged (imported the reference module): {flagged}")
    lines.append("")
    width = max([len("question")] + [len(i) for i in spec.grade_cells])
    lines.append(f"{'question'.ljust(width)}  {'max':>4}  {'pass rate':>15}  {'mean':>6}")
    for name in spec.order:
        if name not in spec.grade_cells:
            continue
        qs = [q for d in results for q in d["questions"] if q["id"] == name]
        mx = spec.grade_cells[name].max_score
        if name in auto:
            passed = sum(q["status"] == "passed" for q in qs)
            rate = f"{100 * passed / n:5.1f}% ({passed}/{n})" if n else "-"
            mean = statistics.mean(q["points"] or 0 for q in qs) if qs else 0
            lines.append(f"{name.ljust(width)}  {mx:>4g}  {rate:>15}  {mean:>6.2f}")
        else:
            pending = sum(q["status"] == "manual" for q in qs)
            done = [q["points"] for q in qs if q["status"] == "graded" and q["points"] is not None]
            given = f"mean {statistics.mean(done):.2f} of {len(done)} graded, " if done else ""
            lines.append(f"{name.ljust(width)}  {mx:>4g}  {'graded by hand':>15}  ({given}{pending} pending)")
    mistakes = mistake_counts(spec, results)
    if mistakes:
        lines += ["", "What the class got wrong (named mistakes, by question):"]
        for name, description, count in mistakes:
            who = "student" if count == 1 else "students"
            lines.append(f"  {name}: {count} {who}: {description}")
    return "\n".join(lines) + "\n"


def mistake_counts(spec, results) -> list[tuple[str, str, int]]:
    """(question, mistake, number of students) for every named mistake seen."""
    counts: Counter = Counter()
    for d in results:
        for q in d["questions"]:
            for description in dict.fromkeys(q.get("mistakes") or []):
                counts[(q["id"], description)] += 1
    order = {name: k for k, name in enumerate(spec.order)}
    return [(name, clean_str(desc), n) for (name, desc), n in
            sorted(counts.items(), key=lambda item: (order.get(item[0][0], 99), -item[1]))]


def summary_png(spec, results, path) -> None:
    """Pass rate per autograded question and the score distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    auto = spec.autograded_ids
    n = max(len(results), 1)
    rates = [100 * sum(q["status"] == "passed" for d in results for q in d["questions"] if q["id"] == i) / n
             for i in auto]
    scores = [d["score"] for d in results]
    max_auto = sum(spec.grade_cells[i].max_score for i in auto)
    mistakes = mistake_counts(spec, results)[:8]
    if mistakes:
        fig, axes = plt.subplots(1, 3, figsize=(17, 4.5), gridspec_kw={"width_ratios": [1, 1, 1.4]})
        ax1, ax2, ax3 = axes
        labels = [textwrap.shorten(f"{name}: {desc}", 60) for name, desc, _ in mistakes]
        ax3.barh(range(len(mistakes)), [n for _, _, n in mistakes], color="#c44e52")
        ax3.set_yticks(range(len(mistakes)), labels, fontsize=8)
        ax3.invert_yaxis()
        ax3.set_xlabel("students")
        ax3.set_title("most common named mistakes")
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.bar(range(len(auto)), rates, color="#4c72b0")
    ax1.set_xticks(range(len(auto)), auto, rotation=30, ha="right")
    ax1.set_ylim(0, 100)
    ax1.set_ylabel("students passing (%)")
    ax1.set_title(f"{spec.name}: pass rate per question")
    # One bar per whole point: bins [k - 0.5, k + 0.5) centred on 0, 1, ..., max.
    top = int(math.ceil(max_auto)) if max_auto else 1
    ax2.hist(scores, bins=[k - 0.5 for k in range(top + 2)], color="#55a868", edgecolor="white")
    ax2.set_xticks(range(0, top + 1, max(1, top // 10)))
    ax2.set_xlabel(f"autograded score (of {max_auto:g})")
    ax2.set_ylabel("students")
    ax2.set_title(f"score distribution (n = {len(results)})")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write(path, buf.getvalue())


def write_reports(course, name, spec, results, log=print) -> None:
    out = course.reports_dir / name
    atomic_write(out / "grades.csv", grades_csv(spec, results).encode("utf-8", "replace"))
    text = clean_str(summary_text(spec, results))
    atomic_write(out / "summary.txt", text.encode("utf-8", "replace"))
    summary_png(spec, results, out / "summary.png")
    log(text.rstrip())
    log(f"reports: {out / 'grades.csv'}, {out / 'summary.txt'}, {out / 'summary.png'}")
