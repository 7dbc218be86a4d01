"""The untrusted half of grading: run one notebook's cells, export answers as data.

This file runs *inside* the sandbox (:mod:`autograder.sandbox`), as the only
piece of the autograder the submission can see. It imports nothing from the
course (no ``autograder``, no ``solutions``): it executes the cells it is
given in an in-process IPython shell and streams what happened back to the
grader as newline-delimited JSON frames on its standard output (a private
copy of it: the cells' own file descriptor 1 is /dev/null):

``{"t": "ready"}``
    the shell is up;
``{"t": "start", "i": k}``
    step ``k`` starts;
``{"t": "export", "i": k, "values": {...}}``
    the variables a question names, as plain data (see :func:`encode`);
``{"t": "done", "i": k, "outputs": [...], "count": n, "timed_out": bool}``
    step ``k`` finished, with its nbformat outputs;
``{"t": "end"}``
    every step ran.

Everything this process writes is untrusted: the student's code runs in this
same process and may forge or corrupt any frame. The grader therefore treats
the frames as data about this one submission only (what the student's code
produced, like a typed-in answer), parses them with size caps, and judges
answers itself, outside the sandbox, with the reference module.

Why an in-process IPython shell rather than a Jupyter kernel: a kernel needs
a client and ZMQ sockets, i.e. a second process and a second set of imports
per submission; here one process does both, and nothing crosses the sandbox
boundary but one pipe. The shell is IPython's own ``InteractiveShell`` with
its display hook, display publisher and traceback hook pointed at the frame
stream, as ipykernel's ``ZMQInteractiveShell`` points them at ZMQ.

The job arrives on standard input as one JSON document::

    {"timeout": 30, "max_output_bytes": 2097152, "max_export_bytes": 33554432,
     "preload": ["numpy", "pandas", "statsmodels.api", "factordata"],
     "steps": [{"i": 3, "code": "...", "silent": false, "export": ["beta", "TICKER"]}, ...]}

``export`` names are read from the namespace *before* the step's code runs
(the step is the question's test cell, so they are the student's answers to
that question). ``silent`` steps (the replay after a crash) report nothing.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import signal
import sys

#: Where the grader puts matplotlib's font list (read-only); copied to the
#: box's own MPLCONFIGDIR so that matplotlib does not rebuild it (seconds).
MPL_SEED = "/opt/autograder/mpl"


class _Frames:
    """Newline-delimited JSON frames on a private file descriptor."""

    def __init__(self, fd):
        self.fd = fd

    def send(self, frame):
        data = (json.dumps(frame, allow_nan=True, default=str) + "\n").encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


class _Sink:
    """The outputs of the running cell, with a byte cap."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.outputs = []
        self.size = 0
        self.truncated = False

    def reset(self):
        self.outputs, self.size, self.truncated = [], 0, False

    def _room(self, n):
        if self.size + n > self.max_bytes:
            if not self.truncated:
                self.truncated = True
                self.outputs.append({"output_type": "stream", "name": "stderr",
                                     "text": ["\n... output truncated by the autograder ...\n"]})
            return False
        self.size += n
        return True

    def stream(self, name, text):
        if not text or not self._room(len(text)):
            return
        last = self.outputs[-1] if self.outputs else None
        # Pieces are joined once, when the cell ends (appending to one string
        # would copy it at every print: quadratic in the output's size).
        if last and last.get("output_type") == "stream" and last.get("name") == name:
            last["text"].append(text)
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": [text]})

    def finished(self):
        """The outputs, ready to send."""
        for out in self.outputs:
            if out.get("output_type") == "stream" and isinstance(out.get("text"), list):
                out["text"] = "".join(out["text"])
        return self.outputs

    def rich(self, output_type, data, metadata, count=None):
        try:
            size = len(json.dumps(data, default=str)) + len(json.dumps(metadata or {}, default=str))
        except (TypeError, ValueError):
            return
        if not self._room(size):
            return
        out = {"output_type": output_type, "data": data, "metadata": metadata or {}}
        if output_type == "execute_result":
            out["execution_count"] = count
        self.outputs.append(out)

    def error(self, ename, evalue, traceback):
        # An exception's message and traceback are capped like any output
        # (a 20 MB message must not use up the notebook's output budget).
        ename, evalue = str(ename)[:200], str(evalue)[:5_000]
        traceback = [str(line)[:10_000] for line in list(traceback)[:100]]
        if not self._room(sum(len(t) for t in traceback) + len(evalue)):
            traceback = [f"{ename}: {evalue[:2000]}"]
        self.outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                             "traceback": traceback})


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` of the cells."""

    def __init__(self, sink, name):
        self.sink, self.name_ = sink, name

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        self.sink.stream(self.name_, text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


def _make_shell(sink):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.rich("execute_result", format_dict, md_dict, self.shell.execution_count)

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            sink.rich("display_data", data, metadata)

        def clear_output(self, wait=False):
            sink.outputs = [o for o in sink.outputs if o.get("output_type") == "error"]

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype, evalue, stb):
            sink.error(getattr(etype, "__name__", str(etype)), str(evalue), list(stb))

    shell = Shell.instance(colors="nocolor", history_length=0)
    shell.history_manager.enabled = False
    return shell


class _Timeout:
    """Interrupt a cell that runs longer than the limit (as a kernel interrupt)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.fired = False

    def _handler(self, signum, frame):
        self.fired = True
        raise KeyboardInterrupt(f"the cell ran longer than {self.seconds} s")

    def __enter__(self):
        self.fired = False
        signal.signal(signal.SIGALRM, self._handler)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        return False


# ---- answers as plain data ----------------------------------------------------
def _npy(array) -> str:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _numeric_array(values):
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return array
    if array.dtype.kind == "O":
        try:
            return array.astype(float)
        except (TypeError, ValueError):
            return None
    return None


def _labels(index, budget):
    """An index as plain data: dates as int64 nanoseconds, else a list of labels."""
    import numpy as np

    kind = getattr(index.dtype, "kind", "O")
    if kind == "M":
        values = np.asarray(index.tz_localize(None) if getattr(index, "tz", None) else index)
        return {"kind": "datetime", "npy": _npy(values.astype("datetime64[ns]").astype("int64"))}
    if len(index) > budget:
        return {"kind": "too-large"}
    out = []
    for label in index.tolist():
        if isinstance(label, (bool, int, float, str)) or label is None:
            out.append(label)
        else:
            out.append(str(label))
    return {"kind": "labels", "items": out}


def encode(value, budget=5_000_000, depth=0):
    """One answer as plain data (a JSON-ready dict); never raises.

    Numbers, strings, booleans, None; lists and tuples of those; numpy
    arrays, pandas Series and DataFrames of numbers (values as ``.npy`` bytes,
    written with ``allow_pickle=False``, labels as lists or dates); dicts
    with string keys. Anything else is described by its type name only.
    """
    try:
        return _encode(value, budget, depth)
    except Exception as exc:  # a student's object may raise anywhere
        return {"kind": "unreadable", "type": type(value).__name__, "error": type(exc).__name__}


def _encode(value, budget, depth):
    import numbers

    type_name = type(value).__name__
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool) or type_name == "bool_":
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": value[:10_000], "truncated": len(value) > 10_000}
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        number = float(value)
        return {"kind": "number", "value": number if math.isfinite(number) else str(number),
                "integer": isinstance(value, numbers.Integral), "type": type_name}
    np_ = sys.modules.get("numpy")
    if np_ is not None and isinstance(value, np_.ndarray):
        if value.size > budget:
            return {"kind": "too-large", "type": type_name}
        array = _numeric_array(value)
        if array is None:
            return {"kind": "array", "dtype": str(value.dtype), "npy": None, "shape": list(value.shape)}
        return {"kind": "array", "npy": _npy(array), "shape": list(array.shape)}
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, (pd.Series, pd.DataFrame)):
        if value.size > budget:
            return {"kind": "too-large", "type": type_name}
        is_frame = isinstance(value, pd.DataFrame)
        array = _numeric_array(value.to_numpy())
        out = {"kind": "frame" if is_frame else "series", "type": type_name,
               "npy": None if array is None else _npy(array),
               "dtype": "" if is_frame else str(value.dtype),
               "index": _labels(value.index, budget)}
        if is_frame:
            out["columns"] = _labels(value.columns, budget)
        else:
            name = value.name
            out["name"] = name if isinstance(name, (str, int, float)) or name is None else str(name)
        return out
    if isinstance(value, (list, tuple)) and depth < 2:
        if len(value) > 10_000:
            return {"kind": "too-large", "type": type_name}
        return {"kind": "list", "type": type_name, "items": [_encode(v, budget, depth + 1) for v in value]}
    if isinstance(value, dict) and depth < 2:
        if len(value) > 1_000:
            return {"kind": "too-large", "type": type_name}
        return {"kind": "dict", "items": [[str(k), _encode(v, budget, depth + 1)] for k, v in value.items()]}
    if pd is not None and isinstance(value, pd.Index):
        return {"kind": "list", "type": "Index", "items": [_encode(v, budget, depth + 1) for v in value.tolist()]}
    return {"kind": "other", "type": type_name[:100]}


def export(namespace, names, max_bytes):
    values = {}
    size = 0
    for name in names:
        if name not in namespace:
            values[name] = {"kind": "missing"}
            continue
        encoded = encode(namespace[name])
        size += len(json.dumps(encoded, default=str))
        if size > max_bytes:
            encoded = {"kind": "too-large", "type": type(namespace[name]).__name__}
        values[name] = encoded
    return values


def _preload(modules):
    """Import the course's libraries before the first cell, outside its timeout.

    The notebook's own ``import numpy`` is then instant, as in a kernel whose
    start-up already paid for it; a failure here is left for the notebook's
    own import to report.
    """
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass


def _seed_matplotlib():
    import shutil

    target = os.environ.get("MPLCONFIGDIR")
    if target and os.path.isdir(MPL_SEED) and not os.path.exists(target):
        try:
            shutil.copytree(MPL_SEED, target)
        except OSError:
            pass


# ---- the loop -------------------------------------------------------------------
#: The course's libraries, imported before the job is read: a box started
#: early (``check``) or forked from a preloaded server (``grade``) has paid
#: for them by the time the notebook arrives.
PRELOAD = ("numpy", "pandas", "statsmodels.api", "factordata", "matplotlib.pyplot")


def warm():
    """Everything that does not depend on the job: matplotlib's cache, imports.

    Fd 1 carries the frames: whatever an import prints goes to fd 2 meanwhile.
    """
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        _seed_matplotlib()
        _preload(PRELOAD)
        sys.stdout.flush()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def main(job_fd=0):
    """Read the job from ``job_fd`` (to its end), run it, stream frames on fd 1.

    Call :func:`warm` first (``__main__`` does; the fork server did it once
    for all its boxes).
    """
    with os.fdopen(os.dup(job_fd), "rb") as fh:
        raw = fh.read()
    job = json.loads(raw.decode("utf-8", "surrogatepass"))
    frames = _Frames(os.dup(1))
    # Nothing more is read; cells get an empty standard input, as in a kernel.
    # C-level writes (os.system, extensions) must not reach the frame pipe.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if job_fd not in (0, 1, 2):
        os.close(job_fd)
    _seed_matplotlib()
    sink = _Sink(int(job.get("max_output_bytes", 2 * 2**20)))
    sys.stdout = _Stream(sink, "stdout")
    sys.stderr = _Stream(sink, "stderr")
    shell = _make_shell(sink)
    _preload(job.get("preload", ()))
    frames.send({"t": "ready"})
    timeout = float(job.get("timeout", 30))
    max_export = int(job.get("max_export_bytes", 32 * 2**20))
    for step in job["steps"]:
        index = step["i"]
        silent = bool(step.get("silent"))
        if not silent:
            frames.send({"t": "start", "i": index})
        if step.get("export") and not silent:
            frames.send({"t": "export", "i": index,
                         "values": export(shell.user_ns, step["export"], max_export)})
        sink.reset()
        timer = _Timeout(timeout)
        with timer:
            shell.run_cell(step["code"], store_history=not silent, silent=False)
        if not silent:
            frames.send({"t": "done", "i": index, "outputs": sink.finished(),
                         "count": shell.execution_count - 1, "timed_out": timer.fired,
                         "truncated": sink.truncated})
    frames.send({"t": "end"})
    os._exit(0)


if __name__ == "__main__":
    warm()
    main()
