"""Running a notebook's cells in boxes: timeouts, crashes, restarts, caps.

:func:`execute` sends the cells to a box (:mod:`autograder.sandbox`), reads
back what the runner reports (:mod:`autograder.sandbox_runner`) and keeps,
for every cell, its outputs and, before every question's test cell, the
student's answers as plain data. Everything read back is untrusted: frames
are checked for shape, outputs are reduced to safe kinds (text, PNG and
JPEG images, errors) and sizes are capped.

What happens when a cell misbehaves, as ``nbgrader autograde`` would have
it, and beyond:

* runs past the cell timeout: the box interrupts it (the cell gets a
  ``KeyboardInterrupt`` error and grading goes on); if it ignores the
  interrupt, the grader kills the box, the cell gets a ``CellTimeoutError``
  output, and a fresh box replays the earlier cells silently and goes on
  with the next cell;
* kills the process (``os._exit``, a crash, the memory cap): the same,
  with a ``KernelDied`` output naming the likely cause;
* at most ``Limits.max_restarts`` restarts; the cells after that get a
  "not run" error;
* the whole notebook has ``Limits.notebook_timeout`` seconds of wall clock
  and ``Limits.max_total_output_mb`` of output; past either, the remaining
  cells are not run.

Every box gets a fresh uid (``new_uid()``) and is destroyed, with every
process it started, before the next one starts.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from .course import Limits
from .sandbox import SandboxError, start_box, stop_forking
from .text import clean_str

#: Rich output kinds kept from the box. HTML, SVG, JavaScript, Markdown and
#: LaTeX are dropped: a student controls them, and they would run or render
#: as active content in feedback and formgrader. Their text/plain version
#: (always present for pandas and IPython objects) stays.
SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
#: Seconds a cell gets after its timeout to stop when interrupted.
GRACE_S = 10.0


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


@dataclass
class Step:
    """One code cell to run: its index in the notebook, code, answers to export."""

    index: int
    code: str
    export: tuple = ()


@dataclass
class Execution:
    """What came back from the boxes (all of it untrusted data)."""

    outputs: dict = field(default_factory=dict)   # cell index -> [NotebookNode]
    counts: dict = field(default_factory=dict)    # cell index -> execution count
    exports: dict = field(default_factory=dict)   # cell index -> {name: encoded value}
    errored: set = field(default_factory=set)     # cells whose own code raised
    events: list = field(default_factory=list)    # {"cell", "kind", "message"}
    status: str = "ok"
    kept: int = 0                                 # characters of output kept so far

    def event(self, cell, kind, message):
        self.events.append({"cell": cell, "kind": kind, "message": message})


def _text(value, cap=100_000) -> str:
    text = value if isinstance(value, str) else "".join(v for v in value if isinstance(v, str)) \
        if isinstance(value, list) else ""
    return clean_str(text[:cap])


def clean_outputs(raw, max_lines_chars=2_000_000) -> list:
    """Untrusted outputs -> a list of safe nbformat outputs, ``max_lines_chars`` in all.

    The runner caps what a cell prints, but the frames are the student's to
    forge: the cap is applied again here, to every kind of output.
    """
    out = []
    if not isinstance(raw, list):
        return out
    budget = max_lines_chars
    for item in raw[:500]:
        if budget <= 0:
            out.append(NotebookNode(output_type="stream", name="stderr",
                                    text="\n... output truncated by the autograder ...\n"))
            break
        before = len(out)
        if not isinstance(item, dict):
            continue
        kind = item.get("output_type")
        if kind == "stream":
            name = item.get("name") if item.get("name") in ("stdout", "stderr") else "stdout"
            out.append(NotebookNode(output_type="stream", name=name, text=_text(item.get("text"), budget)))
        elif kind in ("display_data", "execute_result"):
            data = item.get("data") if isinstance(item.get("data"), dict) else {}
            kept = {}
            for mime in SAFE_MIME:
                value = data.get(mime)
                if mime == "text/plain" and value is not None:
                    kept[mime] = _text(value, budget)
                elif isinstance(value, str) and len(value) <= budget - len(kept.get("text/plain", "")) \
                        and _is_base64(value):
                    kept[mime] = value
            if not kept:
                dropped = ", ".join(sorted(k for k in data if isinstance(k, str)))[:200]
                kept["text/plain"] = f"[output of type {dropped or 'unknown'} not shown]"
            node = NotebookNode(output_type=kind, data=kept, metadata=NotebookNode())
            if kind == "execute_result":
                count = item.get("execution_count")
                node["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
            out.append(node)
        elif kind == "error":
            ename = _text(item.get("ename"), 200) or "Error"
            evalue = _text(item.get("evalue"), 5_000)
            tb = item.get("traceback")
            tb = [_text(t, 20_000) for t in tb[:200]] if isinstance(tb, list) else []
            if sum(len(t) for t in tb) > max(budget, 10_000):
                tb = [f"{ename}: {evalue}"]
            out.append(NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=tb))
        for node in out[before:]:
            budget -= _size(node)
    return out


def _size(node) -> int:
    if node.output_type == "stream":
        return len(node.text)
    if node.output_type == "error":
        return len(node.evalue) + sum(len(t) for t in node.traceback)
    return sum(len(v) for v in node.data.values())


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value.replace("\n", ""), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def execute(steps: list, limits: Limits, new_uid, sandbox: bool = True, first_box=None) -> Execution:
    """Run ``steps`` (see :class:`Step`) in boxes; return what came back.

    ``first_box``: a box already started without a job (``Box(None, ...)``),
    used for the first run; restarts get new ones.
    """
    result = Execution()
    pending = list(steps)
    done: list[Step] = []
    skip: set[int] = set()
    restarts = 0
    wall = time.monotonic() + limits.notebook_timeout
    total_cap = int(limits.max_total_output_mb * 2**20)
    while pending:
        job = {"timeout": limits.timeout, "max_output_bytes": int(limits.max_output_mb * 2**20),
               "max_export_bytes": total_cap,
               "steps": [{"i": s.index, "code": s.code, "silent": True} for s in done if s.index not in skip]
               + [{"i": s.index, "code": s.code, "export": list(s.export)} for s in pending]}
        replaying = any(s.index not in skip for s in done)
        if first_box is not None:
            box, first_box = first_box, None
            box.send(job)
        else:
            box = start_box(job, limits, new_uid(), sandbox=sandbox)
        outcome = None  # why the box stopped early: "died", "timeout", "wall", "output", "replay"
        current = None
        try:
            outcome, current = _read(box, result, pending, done, limits, wall, total_cap, replaying)
        except SandboxError:
            if not stop_forking(box):
                raise
            continue  # a forked box that could not set itself up: again, on its own
        finally:
            oom = box.oom()
            box.close()
        if outcome is None:
            break
        if outcome in ("wall", "output"):
            _not_run(result, pending, "the notebook's time limit was reached" if outcome == "wall"
                     else "the notebook's output limit was reached")
            result.status = "timeout" if outcome == "wall" else "output-limit"
            break
        if outcome == "replay":
            result.event(None, "died", "a restarted box failed while replaying the earlier cells")
            _not_run(result, pending, "the kernel could not be restarted")
            result.status = "kernel-died"
            break
        culprit = current
        if outcome == "timeout":
            result.outputs.setdefault(culprit, []).append(error_output(
                "CellTimeoutError", f"the cell ran longer than {limits.timeout} s and did not stop when interrupted"))
            result.event(culprit, "timeout", f"cell {culprit + 1} timed out ({limits.timeout} s) and was killed")
            result.status = "timeout"
        else:
            cause = f"the memory cap of {limits.memory_mb} MB" if oom else "exit(), os._exit or a crash"
            what = ("the kernel died while running this cell" if any(s.index == culprit for s in pending)
                    else "the kernel died after this cell ran")
            result.outputs.setdefault(culprit, []).append(error_output(
                "KernelDied", f"{what} ({cause}); the earlier cells were run again in a fresh kernel"))
            result.event(culprit, "died", f"cell {culprit + 1}: {what} ({cause})")
            result.status = "kernel-died"
        result.errored.add(culprit)
        skip.add(culprit)
        for s in list(pending):
            if s.index == culprit:
                pending.remove(s)
                done.append(s)
        restarts += 1
        if restarts > limits.max_restarts and pending:
            _not_run(result, pending, "the kernel had to be restarted too many times")
            break
    return result


def _not_run(result, pending, why):
    for s in pending:
        result.outputs[s.index] = [error_output("KernelDied", f"not run: {why}")]
        result.event(s.index, "not-run", f"cell {s.index + 1} not run: {why}")
    pending.clear()


def _read(box, result, pending, done, limits, wall, total_cap, replaying):
    """Read frames until the end or a failure; returns (outcome, culprit cell)."""
    by_index = {s.index: s for s in pending}
    current = None
    last_done = done[-1].index if done else None
    started_any = False
    # Start-up and the silent replay get a budget of their own.
    deadline = min(wall, time.monotonic() + limits.startup_timeout
                   + (limits.timeout * (len(done) + 1) if replaying else 0))
    while True:
        try:
            frame = box.next_frame(deadline, total_cap)
        except TimeoutError:
            if time.monotonic() >= wall - 0.01:
                return "wall", current
            if current is None:
                return ("replay" if not started_any else "timeout"), (last_done if current is None else current)
            return "timeout", current
        except OverflowError as exc:
            result.event(current, "output", str(exc))
            return "output", current
        if frame is None:  # the box died
            if not started_any and replaying:
                return "replay", None
            if current is not None:
                return "died", current
            if last_done is not None:
                return "died", last_done
            raise SandboxError("the sandbox stopped before running anything: "
                               + box.stderr_tail.decode("utf-8", "replace").strip()[-300:])
        kind = frame.get("t")
        index = frame.get("i")
        if kind == "ready":
            continue
        if kind == "end":
            if pending:  # a forged end: the rest did not run
                _not_run(result, pending, "the notebook stopped early")
            return None, None
        if not isinstance(index, int) or index not in by_index:
            continue  # a frame about no cell of ours: ignore it
        if kind == "start":
            if current is not None and current != index:
                continue
            current = index
            started_any = True
            deadline = min(wall, time.monotonic() + limits.timeout + GRACE_S)
        elif kind == "export" and index == current:
            values = frame.get("values")
            if isinstance(values, dict) and index not in result.exports:
                result.exports[index] = values
        elif kind == "done" and index == current:
            # Kept output is capped per cell and, the same amount, for the
            # whole notebook (the rest is dropped, with a note).
            room = max(0, int(limits.max_output_mb * 2**20) - result.kept)
            outputs = clean_outputs(frame.get("outputs"), room)
            result.kept += sum(_size(o) for o in outputs)
            result.outputs[index] = outputs
            count = frame.get("count")
            result.counts[index] = count if isinstance(count, int) and not isinstance(count, bool) else None
            if any(o.output_type == "error" for o in outputs):
                result.errored.add(index)
            if frame.get("truncated") is True:
                result.event(index, "output", f"cell {index + 1} printed more than {limits.max_output_mb:g} MB "
                                              "of output: truncated")
            if frame.get("timed_out") is True:
                result.event(index, "timeout", f"cell {index + 1} timed out ({limits.timeout} s) and was interrupted")
                result.status = "timeout"
            step = by_index.pop(index)
            pending.remove(step)
            done.append(step)
            last_done = index
            current = None
            deadline = min(wall, time.monotonic() + limits.startup_timeout)
