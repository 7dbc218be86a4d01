"""nbgrader's ``Execute`` preprocessor, hardened for untrusted notebooks.

:class:`SandboxExecute` is nbgrader's ``Execute`` (itself nbconvert's
``ExecutePreprocessor`` / nbclient's ``NotebookClient``): cells run through
its ``execute_cell``, timeouts interrupt the kernel and record nbgrader's
``CellTimeoutError`` output, exactly as ``nbgrader autograde`` does. What it
adds, and why nbgrader alone is not enough:

* it runs on a pre-started :class:`~autograder.sandbox.SandboxKernel`
  (nbgrader starts its own, unsandboxed kernel per notebook);
* before each cell it tells the kernel-side integrity check whether the cell
  is student code or a locked test (one silent message, no round trip);
* a cell that ignores the interrupt (nbclient then raises
  ``CellTimeoutError`` and nbgrader aborts the whole notebook) or that kills
  the kernel (``DeadKernelError``, same) gets an error output saying so;
  the kernel is replaced, the earlier cells are run again silently, and
  grading goes on with the next cell (at most ``Limits.max_restarts``
  times; cells after that get a "not run" error);
* output is capped while it arrives (``Limits.max_output_mb`` per cell),
  so hundreds of megabytes of printing cost time, not memory; nbgrader's
  ``LimitOutput`` trims the rest afterwards.
"""

from __future__ import annotations

import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute

from .course import Limits
from .sandbox import SandboxError, SandboxKernel


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class SandboxExecute(Execute):
    """Execute a notebook on sandboxed kernels (see the module docstring).

    Use :meth:`run` (not ``preprocess``): it takes the first kernel and a
    factory for replacements, and returns the executed notebook.
    """

    def setup(self, limits: Limits, kernel: SandboxKernel, new_kernel):
        self.limits = limits
        self.timeout = int(limits.timeout)
        self.sandbox = kernel
        self.new_kernel = new_kernel
        self.restarts = 0
        self.events: list[dict] = []  # {"cell", "kind": timeout|died|not-run, "message"}
        self.gave_up = False
        self._skip: set[int] = set()
        self._out_bytes = 0
        self._truncated = False
        self._exit_requested = False
        return self

    # ---- output cap -------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if msg["msg_type"] == "stream":
            size = len(content.get("text", ""))
        else:
            size = sum(len(v) if isinstance(v, str) else 64 for v in content.get("data", {}).values())
        self._out_bytes += size
        if self._out_bytes > self.limits.max_output_mb * 2**20:
            if not self._truncated:
                self._truncated = True
                self.events.append({"cell": cell_index, "kind": "output",
                                    "message": f"cell {cell_index + 1} printed over "
                                               f"{self.limits.max_output_mb:g} MB of output: truncated"})
                outs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n... output truncated by the autograder (over {self.limits.max_output_mb:g} MB) ...\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    # ---- the run ----------------------------------------------------------
    def run(self, nb, resources, student_cells: set[int]):
        """Execute ``nb`` in place; return it.

        Parameters
        ----------
        nb : NotebookNode
        resources : dict
        student_cells : set of int
            Indices of cells that hold student code (the rest are locked).
        """
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, self.sandbox.km)
        self.timeout = int(self.limits.timeout)  # __init__ reloaded it from the config
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.student_cells = student_cells
        self.kc = self.sandbox.kc
        self.sandbox.wait_ready()
        self.nb.metadata["language_info"] = self.nb.metadata.get("language_info") or {"name": "python"}
        for index, cell in enumerate(self.nb.cells):
            self._run_cell(cell, index)
        return self.nb

    def _mark(self, index: int) -> None:
        student = index in self.student_cells
        self.kc.execute(f"__import__('autograder.integrity').integrity._enter_cell({index}, {student})",
                        silent=True, store_history=False)

    def _run_cell(self, cell, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return
        if self.gave_up:
            cell.outputs = [error_output("KernelDied", "not run: the kernel had to be restarted too many times")]
            self.events.append({"cell": index, "kind": "not-run", "message": "not run"})
            return
        self._out_bytes = 0
        self._truncated = False
        if not self.sandbox.is_alive():
            # The kernel died after the previous cell replied (e.g. a thread
            # that called os._exit): blame that cell, restart, run this one.
            culprit = self._previous_code_cell(index)
            self._kernel_died(culprit, "the kernel died after this cell ran")
            if self.gave_up:
                return self._run_cell(cell, index)
        self._mark(index)
        self._exit_requested = False
        try:
            self.execute_cell(cell, index, store_history=True)
        except CellTimeoutError:
            cell.outputs.append(error_output(
                "CellTimeoutError",
                f"the cell ran longer than {self.timeout} s and did not stop when interrupted"))
            self.events.append({"cell": index, "kind": "timeout",
                                "message": f"cell {index + 1} timed out ({self.timeout} s) and was killed"})
            self._skip.add(index)
            self._restart(index + 1)
        except DeadKernelError:
            self._kernel_died(index, "the kernel died while running this cell")
        else:
            if cell.outputs and any(o.get("ename") == "CellTimeoutError" for o in cell.outputs
                                    if o.get("output_type") == "error"):
                self.events.append({"cell": index, "kind": "timeout",
                                    "message": f"cell {index + 1} timed out ({self.timeout} s) and was interrupted"})
            if any(o.get("ename") == "MemoryError" for o in cell.outputs if o.get("output_type") == "error"):
                self._skip.add(index)  # not replayed after a restart
            if self._exit_requested:
                # exit() / quit(): ipykernel replies, then stops the kernel.
                self._kernel_died(index, "the cell called exit(), which stops the kernel")

    def on_cell_executed(self, **kwargs):
        reply = kwargs.get("execute_reply") or {}
        for payload in reply.get("content", {}).get("payload", []) or []:
            if payload.get("source") == "ask_exit":
                self._exit_requested = True
        return super().on_cell_executed(**kwargs)

    def _kernel_died(self, culprit, what):
        message = (f"{what} (exit(), os._exit, a crash, or the memory cap of "
                   f"{self.limits.memory_mb} MB); the kernel was restarted and the earlier cells run again")
        target = self.nb.cells[culprit]
        target.setdefault("outputs", []).append(error_output("KernelDied", message))
        self.events.append({"cell": culprit, "kind": "died", "message": f"cell {culprit + 1}: {what}"})
        self._skip.add(culprit)
        self._restart(culprit + 1)

    def _previous_code_cell(self, index):
        for j in range(index - 1, -1, -1):
            c = self.nb.cells[j]
            if c.cell_type == "code" and c.source.strip():
                return j
        return index

    def _restart(self, index):
        """Replace the kernel and replay the cells before ``index`` silently."""
        folder = self.sandbox.folder
        self.sandbox.shutdown(remove_folder=False)
        while True:
            if self.restarts >= self.limits.max_restarts:
                self.gave_up = True
                return
            self.restarts += 1
            try:
                kernel = self.new_kernel(folder)
                kernel.wait_ready()
            except SandboxError:
                self.gave_up = True
                return
            self.sandbox, self.km, self.kc = kernel, kernel.km, kernel.kc
            failed = self._replay(index)
            if failed is None:
                return
            self._skip.add(failed)
            self.sandbox.shutdown(remove_folder=False)

    def _replay(self, index):
        """Run earlier cells again, silently; return the index of one that failed the kernel."""
        for j, cell in enumerate(self.nb.cells[:index]):
            if j in self._skip or cell.cell_type != "code" or not cell.source.strip():
                continue
            self._mark(j)
            msg_id = self.kc.execute(cell.source, silent=True, store_history=False)
            if not self._wait_reply(msg_id):
                return j
        return None

    def _wait_reply(self, msg_id) -> bool:
        deadline = time.monotonic() + self.timeout
        get = run_sync(self.kc.shell_channel.get_msg)
        while time.monotonic() < deadline:
            try:
                msg = get(timeout=1.0)
            except Exception:
                if not self.sandbox.is_alive():
                    return False
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def findings(self) -> list[dict]:
        """The kernel-side integrity findings (empty if the kernel is gone)."""
        import ast
        import json

        if self.gave_up or self.kc is None or not self.sandbox.is_alive():
            return []
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={
            "r": "__import__('autograder.integrity').integrity._report()"})
        deadline = time.monotonic() + 10
        get = run_sync(self.kc.shell_channel.get_msg)
        while time.monotonic() < deadline:
            try:
                msg = get(timeout=1.0)
            except Exception:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                tampered = [{"cell": None, "kind": "patch",
                             "message": "tampered with the autograder's integrity check"}]
                expr = msg["content"].get("user_expressions", {}).get("r", {})
                try:
                    found = json.loads(ast.literal_eval(expr["data"]["text/plain"]))
                    if expr.get("status") != "ok" or not isinstance(found, list) or not all(
                            isinstance(f, dict) and isinstance(f.get("message"), str) for f in found):
                        return tampered
                    return found
                except Exception:
                    return tampered
        return []


def is_student_cell(cell) -> bool:
    """Student code: any code cell that is not locked (solution or free cell)."""
    return cell.cell_type == "code" and not utils.is_locked(cell)
