"""Fork-server for kernels: pay the imports once per worker, not per notebook.

Starting an IPython kernel and importing numpy, pandas and statsmodels costs
about 3 s of CPU, more than grading a notebook. A batch worker therefore
forks a *zygote* before it does anything else (single-threaded, no ZMQ): the
zygote imports ipykernel and :data:`autograder.sandbox.PRELOAD` once, then
waits for requests on a pipe. Each kernel is a fresh ``fork`` of that clean
zygote (it has never run student code), which then applies exactly what
``_launcher.py`` applies to a normal kernel (resource limits, own session,
unprivileged user, minimal environment, its own folder), reseeds the random
generators, and runs ipykernel. Copy-on-write keeps students apart: nothing
a kernel does reaches the zygote or another kernel.

:class:`ForkProvisioner` is a jupyter_client provisioner that launches through
the zygote, so the kernel manager, nbclient and nbgrader's ``Execute`` work
unchanged (signals, interrupts, liveness, kill).
"""

from __future__ import annotations

import json
import os
import signal
import sys

from jupyter_client.provisioning.local_provisioner import LocalProvisioner


class Zygote:
    """A forked template process that forks kernels on request."""

    def __init__(self, preload):
        self.preload = tuple(preload)
        self.pid = None
        self._to = self._from = None

    def start(self) -> "Zygote":
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the zygote
            os.close(req_w)
            os.close(rep_r)
            code = 1
            try:
                _zygote_main(req_r, rep_w, self.preload)
                code = 0
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(rep_w)
        self.pid = pid
        self._to = os.fdopen(req_w, "w", buffering=1)
        self._from = os.fdopen(rep_r, "r")
        return self

    def spawn(self, request: dict) -> int:
        """Fork a kernel; return its pid (RuntimeError if the zygote is gone)."""
        try:
            self._to.write(json.dumps(request) + "\n")
            line = self._from.readline()
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeError(f"kernel zygote gone: {exc}") from None
        if not line:
            raise RuntimeError("kernel zygote gone")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return int(reply["pid"])

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            self._to.close()
            self._from.close()
        except OSError:
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = None


def _zygote_main(req_fd, rep_fd, preload):
    import importlib

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    # Close everything inherited but our pipes and stdio.
    os.closerange(3, req_fd) if req_fd > 3 else None
    for name in ("ipykernel.kernelapp", "IPython", *preload):
        try:
            importlib.import_module(name)
        except Exception:
            pass
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    requests = os.fdopen(req_fd, "r")
    replies = os.fdopen(rep_fd, "w", buffering=1)
    while True:
        line = requests.readline()
        if not line or os.getppid() != parent:
            return
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as exc:
            replies.write(json.dumps({"error": str(exc)}) + "\n")
            continue
        if pid == 0:
            code = 1
            try:
                requests.close()
                replies.close()
                _become_kernel(request)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")


def _reap(signum, frame):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request):
    """In the forked child: limits, user, environment, then run ipykernel."""
    import random
    import tempfile

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    tempfile.tempdir = None
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        import _launcher  # the same limits and privilege drop as a normal kernel
    finally:
        sys.path.remove(here)
        sys.modules.pop("_launcher", None)
    settings = request["settings"]
    _launcher._limit(_launcher.resource.RLIMIT_AS, settings.get("memory_bytes"))
    _launcher._limit(_launcher.resource.RLIMIT_FSIZE, settings.get("fsize_bytes"))
    _launcher.resource.setrlimit(_launcher.resource.RLIMIT_CORE, (0, 0))
    uid, gid = settings.get("uid"), settings.get("gid")
    if uid is not None and os.geteuid() == 0:
        for path in settings.get("chown", []):
            os.chown(path, uid, gid)
        _launcher._limit(_launcher.resource.RLIMIT_NPROC, settings.get("nproc"))
        _launcher._drop_privileges(uid, gid, settings.get("read_capability", True))
    _launcher.exit_with_parent()
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.argv = ["ipykernel_launcher"] + request["argv"]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(request["argv"])
    app.start()


class _ForkedProcess:
    """A ``Popen``-like handle on a kernel forked by the zygote (not our child)."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is not None:
            return self.returncode
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                self.returncode = -1
        except (FileNotFoundError, ProcessLookupError, IndexError):
            self.returncode = -1
        return self.returncode

    def wait(self, timeout=None):
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired([str(self.pid)], timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """Launch the kernel by forking the worker's :class:`Zygote`."""

    zygote: Zygote | None = None
    launch_request: dict = {}

    async def launch_kernel(self, cmd, **kwargs):
        # cmd is [python, _launcher.py, settings, *kernel args]: reuse its parts.
        request = {"settings": json.loads(cmd[2]), "argv": cmd[3:],
                   "env": kwargs.get("env") or {}, "cwd": str(kwargs.get("cwd") or os.getcwd())}
        pid = self.zygote.spawn(request)
        self.process = _ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid  # the kernel called setsid()
        self.cwd = request["cwd"]
        return self.connection_info
