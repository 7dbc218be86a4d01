"""Kernels for untrusted notebooks: own folder, own user, resource limits.

Each submission runs in a fresh IPython kernel:

* in its own temporary folder (its working directory, ``HOME`` and
  ``TMPDIR``), removed afterwards;
* as a dedicated unprivileged user id when the grader runs as root (one uid
  per live kernel, no ``/etc/passwd`` entry needed: ``UID_BASE`` + a slot),
  owning only that folder, so it cannot write to the course directory or to
  another student's folder; when not root, an audit hook in the kernel
  refuses writes outside the folder instead (weaker: ``ctypes`` can bypass
  it);
* with an address-space cap (``RLIMIT_AS``, ``Limits.memory_mb``), a
  file-size cap, no core dumps and, as a dedicated user, a process cap;
* with a minimal environment (no secrets of the grader's environment);
* over ZMQ IPC sockets at paths inside its folder (``transport="ipc"``), so
  parallel kernels never race for TCP ports ("Address already in use").

A kernel is started ahead of need (:meth:`SandboxKernel.start` returns at
once; the kernel imports numpy, pandas, statsmodels and the checks while the
previous notebook runs) and armed with :func:`autograder.integrity.install`
by a silent preamble that students never see.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from .course import Limits

#: First uid used for sandboxed kernels when running as root.
UID_BASE = 200_000
#: Modules imported by the preamble (snapshotted; the notebook's own imports
#: of them are then instant).
PRELOAD = ("numpy", "pandas", "statsmodels.api", "factordata", "solutions", "autograder.checks")
LAUNCHER = str(Path(__file__).with_name("_launcher.py"))

_counter = 0


class SandboxError(RuntimeError):
    """The grader could not start or arm a kernel (not the student's fault)."""


def _next_uid():
    global _counter
    _counter += 1
    if os.geteuid() != 0:
        return None
    return UID_BASE + (os.getpid() % 100_000) * 4 + _counter % 4


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel command is the sandbox launcher."""

    launcher_settings: dict = {}

    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, LAUNCHER, json.dumps(self.launcher_settings),
                "-f", os.path.realpath(self.connection_file),
                "--HistoryManager.hist_file=:memory:", *(extra_arguments or [])]


def _readable_by_others(path: str) -> bool:
    """Can a user who is not the owner reach and read ``path``?"""
    import stat

    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        try:
            mode = os.stat(os.sep.join(parts[:i]) or os.sep).st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IROTH)


def needs_read_capability() -> bool:
    """Whether kernels need CAP_DAC_READ_SEARCH to load Python and the course."""
    import sysconfig

    paths = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
             os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    return not all(_readable_by_others(p) for p in paths)


_READ_CAP = None


def _read_cap() -> bool:
    global _READ_CAP
    if _READ_CAP is None:
        _READ_CAP = needs_read_capability()
    return _READ_CAP


def _kernel_env(folder: str) -> dict:
    keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV", "PYTHONPATH", "TZ", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=folder, TMPDIR=os.path.join(folder, "tmp"), IPYTHONDIR=os.path.join(folder, ".ipython"),
        MPLCONFIGDIR=os.path.join(folder, ".matplotlib"), MPLBACKEND="agg",
        OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
        NBGRADER_EXECUTION="autograde", JPY_SESSION_NAME="",
        # ipykernel exits when this process dies (its parent poller).
        JPY_PARENT_PID=str(os.getpid()),
    )
    return env


def _seed_matplotlib_cache(folder: str) -> None:
    # A fresh MPLCONFIGDIR makes matplotlib rebuild its font list (seconds);
    # copying the grader's cached list avoids that.
    home = os.environ.get("MPLCONFIGDIR") or os.path.join(os.path.expanduser("~"), ".cache", "matplotlib")
    for path in glob.glob(os.path.join(home, "fontlist-*.json")):
        try:
            shutil.copy(path, os.path.join(folder, ".matplotlib"))
        except OSError:
            pass


class SandboxKernel:
    """One sandboxed kernel and its client.

    Parameters
    ----------
    limits : Limits
    protected_paths : list of str
        Folders the submission must not read (see :mod:`autograder.integrity`).
    folder : str, optional
        Reuse this sandbox folder (a restart keeps the student's files).
    preload : tuple of str
    """

    def __init__(self, limits: Limits, protected_paths=(), folder=None, preload=PRELOAD, zygote=None):
        self.limits = limits
        self.protected_paths = list(protected_paths)
        self.preload = tuple(preload)
        self.zygote = zygote
        self.own_folder = folder is None
        self.folder = folder or tempfile.mkdtemp(prefix="agk-", dir="/tmp" if os.path.isdir("/tmp") else None)
        self.uid = _next_uid()
        self.gid = self.uid
        self.km = None
        self.kc = None
        self._preamble_id = None
        self._ready = None
        self.started = None

    # ---- life cycle -------------------------------------------------------
    def start(self) -> "SandboxKernel":
        """Launch the kernel and send the preamble; do not wait."""
        folder = self.folder
        for sub in ("tmp", ".ipython", ".matplotlib"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        _seed_matplotlib_cache(folder)
        chown = []
        if self.uid is not None:
            for dirpath, dirnames, filenames in os.walk(folder):
                chown.append(dirpath)
                chown.extend(os.path.join(dirpath, f) for f in filenames)
        km = SandboxKernelManager(kernel_name="python3", transport="ipc",
                                  ip=os.path.join(folder, "k"),
                                  connection_file=os.path.join(folder, "kernel.json"))
        settings = {"memory_bytes": int(self.limits.memory_mb * 2**20) if self.limits.memory_mb else None,
                    "fsize_bytes": 512 * 2**20, "nproc": 512,
                    "uid": self.uid, "gid": self.gid, "chown": chown + [os.path.join(folder, "kernel.json")],
                    "read_capability": _read_cap() if self.uid is not None else False}
        km.launcher_settings = settings
        if self.zygote is not None:
            import uuid

            from .zygote import ForkProvisioner

            km.kernel_id = str(uuid.uuid4())
            km.provisioner = ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
            km.provisioner.zygote = self.zygote
        self.started = time.monotonic()
        run_sync(km._async_start_kernel)(env=_kernel_env(folder), cwd=folder,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.km = km
        kc = km.client()
        _cap_message_size(kc, self.limits.max_message_mb)
        kc.start_channels()
        self.kc = kc
        code = ("import autograder.integrity as __ag_i\n"
                f"__ag_i.install(protected_paths={self.protected_paths!r}, sandbox={folder!r}, "
                f"guard_writes=True, preload={list(self.preload)!r})\n"
                "del __ag_i\n")
        self._preamble_id = kc.execute(code, silent=True, store_history=False)
        return self

    def wait_ready(self, timeout=None) -> "SandboxKernel":
        """Wait until the preamble has run; SandboxError if it failed (idempotent)."""
        if self._ready is not None:
            if isinstance(self._ready, Exception):
                raise self._ready
            return self
        try:
            self._wait_preamble(timeout)
        except SandboxError as exc:
            self._ready = exc
            raise
        self._ready = True
        return self

    def _wait_preamble(self, timeout=None):
        timeout = timeout or self.limits.startup_timeout
        deadline = time.monotonic() + timeout
        get = run_sync(self.kc.shell_channel.get_msg)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError(f"the kernel did not start within {timeout} s")
            try:
                msg = get(timeout=min(remaining, 1.0))
            except Exception:  # queue.Empty
                if not self.is_alive():
                    raise SandboxError("the kernel died while starting (memory cap too low?)") from None
                continue
            if msg["parent_header"].get("msg_id") == self._preamble_id:
                content = msg["content"]
                if content.get("status") != "ok":
                    raise SandboxError(f"the kernel preamble failed: {content.get('ename')}: {content.get('evalue')}")
                return self

    def is_alive(self) -> bool:
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:
            return False

    def shutdown(self, remove_folder=True) -> None:
        """Kill the kernel (and its process group) and remove its folder."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:
                pass
        if km is not None:
            pid = getattr(getattr(km, "provisioner", None), "pid", None)
            try:
                if pid:
                    os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
            try:
                run_sync(km._async_shutdown_kernel)(now=True)
            except Exception:
                pass
            try:
                run_sync(km._async_cleanup_resources)()
            except Exception:
                pass
        if remove_folder and self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _cap_message_size(kc, max_mb) -> None:
    """Refuse kernel messages over ``max_mb`` (ZMQ_MAXMSGSIZE on the client).

    A message over the cap makes ZMQ drop the connection; the cell then
    times out waiting for its output and is reported as such, instead of the
    grader holding gigabytes of output in memory.
    """
    import zmq

    if max_mb:
        kc.context.setsockopt(zmq.MAXMSGSIZE, int(max_mb * 2**20))


def sandbox_description() -> str:
    if os.geteuid() == 0:
        return "kernels run as dedicated unprivileged users (uid >= %d)" % UID_BASE
    return "kernels run as the current user; an audit hook refuses writes outside their folder"
