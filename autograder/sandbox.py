"""The sandbox that runs a submission's code (Linux namespaces via bubblewrap).

One submission, one box, built fresh and thrown away:

* **Namespaces** (Debian's ``bubblewrap``): own mount, pid, network (none),
  IPC, UTS and cgroup namespaces; ``--new-session`` (no terminal injection),
  ``--die-with-parent``. Visible, read-only: ``/usr``, the Python
  installation, the virtual environment and the bundled data
  (``factordata/``), and the one file of the autograder that runs inside
  (:mod:`autograder.sandbox_runner`). Not visible: ``solutions/``, the rest
  of ``autograder/``, ``exercises/`` (sources, releases, other submissions,
  the gradebook), ``/etc``, ``/root``, ``/home``, the rest of the machine.
  ``/tmp`` and ``/dev/shm`` are fresh size-capped tmpfs mounts that vanish
  with the box; the environment is cleared and rebuilt from a short list.
* **A fresh unprivileged uid** per box when the grader runs as root (never
  reused within a batch: :func:`uid_block`), with every capability and the
  bounding set dropped and ``no_new_privs`` set (``setpriv``). Without root,
  bubblewrap makes a user namespace instead; the box then runs as the
  grader's own uid, still seeing only the paths above.
* **Limits on the whole process tree**: a cgroup (v1 or v2, whichever the
  host has; root only) caps memory and the number of processes; rlimits cap
  CPU seconds, file size, core dumps and address space per process. The
  grader enforces the per-cell timeout (the box interrupts a cell first) and
  the per-notebook wall clock, and caps every byte that comes back.
* **Nothing on disk.** The notebook goes in on standard input and the
  results come back on standard output; the box has no folder on the host,
  so nothing privileged ever opens, copies, chowns or deletes a path the
  submission controls. When the box ends, its pid namespace takes every
  process with it, the cgroup is emptied (``SIGKILL`` to anything left) and
  removed, and the tmpfs mounts are gone.

Two ways to start a box, the same isolation: :class:`Box` runs bubblewrap
for one submission (``check``, and ``grade`` without root or cgroups);
:class:`ForkServer` runs one bubblewrap box per batch that imports the
libraries once and forks each submission's box, which rebuilds its own
namespaces, mounts, cgroup, uid and limits before running anything
(:mod:`autograder.sandbox_forkserver`); :func:`start_box` picks.

When bubblewrap cannot build a box (not Linux, no bubblewrap, user
namespaces disabled), :func:`probe` says why; ``grade`` refuses unless the
instructor passes ``--no-sandbox``, which runs the same runner as a plain
child process ("trusts the students"). ``check`` on a learner's own machine
uses the box when it can and the plain process otherwise: the learner only
grades their own work.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .course import Limits

RUNNER = Path(__file__).with_name("sandbox_runner.py")
SERVER = Path(__file__).with_name("sandbox_forkserver.py")
REPO = Path(__file__).resolve().parent.parent
#: Where the runner and the matplotlib font cache appear inside the box.
BOX_RUNNER = "/opt/autograder/sandbox_runner.py"
BOX_MPL = "/opt/autograder/mpl"
BOX_SERVER = "/opt/autograder/sandbox_forkserver.py"
#: First uid of the range used for boxes when the grader runs as root.
UID_BASE = 1_000_000
UID_SPAN = 1_000_000_000
#: Environment variables passed into the box (all others are cleared).
#: OPENBLAS_CORETYPE/L2_SIZE are set on some hosts because older OpenBLAS
#: builds compute wrong results without them.
PASS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ")
#: Namespaces of a box (a user namespace is added when not root).
UNSHARE = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")


class SandboxError(RuntimeError):
    """The grader could not build or talk to a box (not the student's fault)."""


class Unavailable(SandboxError):
    """No sandbox on this machine; the message says why, in one line."""


# ---- what the machine offers ---------------------------------------------------
@dataclass(frozen=True)
class Capabilities:
    bwrap: str | None
    root: bool
    cgroup: str | None  # "v1", "v2" or None
    reason: str = ""    # why there is no box (empty when there is one)

    @property
    def sandboxed(self) -> bool:
        return not self.reason


_PROBE = None


def probe() -> Capabilities:
    """What isolation this machine supports (cached)."""
    global _PROBE
    if _PROBE is None:
        _PROBE = _probe()
    return _PROBE


def _probe() -> Capabilities:
    root = os.geteuid() == 0
    if not sys.platform.startswith("linux"):
        return Capabilities(None, root, None, f"the sandbox needs Linux (this is {sys.platform})")
    bwrap = shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap") else None)
    if bwrap is None:
        return Capabilities(None, root, None, "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)")
    if root and not shutil.which("setpriv"):
        return Capabilities(bwrap, root, None, "setpriv (util-linux) is missing")
    args = [bwrap, "--ro-bind", "/", "/", *UNSHARE, "--die-with-parent"]
    if not root:
        args.insert(1, "--unshare-user")
    try:
        run = subprocess.run(args + ["true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Capabilities(bwrap, root, None, f"bubblewrap does not run: {exc}")
    if run.returncode != 0:
        why = run.stderr.decode("utf-8", "replace").strip().splitlines()
        return Capabilities(bwrap, root, None,
                            "bubblewrap cannot create namespaces here (" + (why[-1] if why else "no reason given")
                            + "); user namespaces may be disabled")
    return Capabilities(bwrap, root, _cgroup_version() if root else None)


def _cgroup_version() -> str | None:
    v1 = [Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids")]
    if all((p / "cgroup.procs").exists() for p in v1):
        return "v1"
    v2 = Path("/sys/fs/cgroup/cgroup.controllers")
    if v2.exists():
        controllers = v2.read_text().split()
        if "memory" in controllers and "pids" in controllers:
            return "v2"
    return None


def describe() -> str:
    """One line on what holds on this machine (printed by ``grade``)."""
    caps = probe()
    if not caps.sandboxed:
        return f"no sandbox: {caps.reason}"
    parts = ["bubblewrap namespaces (mount, pid, net, ipc, uts)"]
    parts.append("a fresh uid per submission, no capabilities" if caps.root
                 else "a user namespace (the grader's own uid: run as root for a fresh uid per submission)")
    parts.append(f"cgroup {caps.cgroup} limits on memory and processes" if caps.cgroup
                 else "per-process rlimits only (no cgroup: run as root on a host with cgroups)")
    return "; ".join(parts)


# ---- uids -------------------------------------------------------------------------
def uid_block(n: int) -> int:
    """First of ``n`` uids for one batch, chosen at random in a large range.

    Within a batch every box gets ``first + k`` for its own ``k`` (never
    reused); separate batches use separate random blocks, and no process of
    an earlier batch survives it anyway (pid namespaces and cgroups).
    """
    return UID_BASE + secrets.randbelow(UID_SPAN - n - 1)


# ---- cgroups -----------------------------------------------------------------------
class Cgroup:
    """A cgroup for one box: memory and process caps, kill-all, removal."""

    def __init__(self, version: str, name: str, memory_bytes: int | None, pids: int):
        self.version = version
        self.paths: list[Path] = []
        if version == "v1":
            for controller in ("memory", "pids"):
                base = Path("/sys/fs/cgroup") / controller / _own_cgroup(controller).lstrip("/")
                path = base / name
                path.mkdir()
                self.paths.append(path)
            mem, pid_dir = self.paths
            if memory_bytes:
                (mem / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap = mem / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    try:
                        swap.write_text(str(memory_bytes))
                    except OSError:
                        pass
            (pid_dir / "pids.max").write_text(str(pids))
        else:
            base = Path("/sys/fs/cgroup") / _own_cgroup("").lstrip("/")
            path = base / name
            path.mkdir()
            self.paths.append(path)
            if memory_bytes:
                (path / "memory.max").write_text(str(memory_bytes))
                if (path / "memory.swap.max").exists():
                    (path / "memory.swap.max").write_text("0")
            (path / "pids.max").write_text(str(pids))

    def attach_self(self) -> None:
        """Move the calling process into the cgroup (in the child, before exec)."""
        pid = str(os.getpid())
        for path in self.paths:
            with open(path / "cgroup.procs", "w") as fh:
                fh.write(pid)

    def pids(self) -> set[int]:
        out = set()
        for path in self.paths:
            try:
                out |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return out

    def oom_killed(self) -> bool:
        for path in self.paths:
            for name in ("memory.oom_control", "memory.events"):
                try:
                    text = (path / name).read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip() not in ("", "0"):
                        return True
            try:
                if int((path / "memory.failcnt").read_text()) > 0:
                    return True
            except (OSError, ValueError):
                pass
        return False

    def destroy(self) -> None:
        """SIGKILL everything left in the cgroup, then remove it."""
        for _ in range(100):
            left = self.pids()
            if not left:
                break
            if self.version == "v2" and (self.paths[0] / "cgroup.kill").exists():
                try:
                    (self.paths[0] / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)
        for path in self.paths:
            # A killed box's last processes can take a moment to leave the
            # cgroup; what is still there after ~10 s is removed by the next
            # batch (:func:`prepare`).
            for attempt in range(60):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    for pid in self.pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                    time.sleep(min(0.5, 0.01 * 2 ** min(attempt, 6)))


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in ``controller``'s hierarchy ("" = v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            return path
    return "/"


# ---- the box -------------------------------------------------------------------------
def _mpl_cache() -> str | None:
    """A folder with matplotlib's font list, made once per batch by the grader.

    A fresh MPLCONFIGDIR makes matplotlib rebuild its font list (seconds per
    submission); the box gets a read-only copy that the runner copies into
    its own /tmp. The folder is the grader's own (mode 0755, files 0644,
    never written by a box), taken from the grader's matplotlib cache when
    it has one, else built once; it is removed when the grader exits.
    """
    global _MPL
    if _MPL is None:
        import atexit
        import glob

        folder = tempfile.mkdtemp(prefix="ag-mpl-")
        os.chmod(folder, 0o755)
        try:
            import matplotlib

            existing = glob.glob(os.path.join(matplotlib.get_cachedir(), "fontlist-*.json"))
        except Exception:
            existing = []
        for path in existing:
            shutil.copyfile(path, os.path.join(folder, os.path.basename(path)))
        if not existing:
            env = dict(os.environ, MPLCONFIGDIR=folder, MPLBACKEND="agg")
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        for name in os.listdir(folder):
            os.chmod(os.path.join(folder, name), 0o644)
        owner = os.getpid()
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, ignore_errors=True))
        _MPL = folder
    return _MPL


_MPL = None


def prepare() -> None:
    """Build what every box shares (call before forking workers).

    Also removes the cgroups of boxes whose grader was killed outright
    (``ag-*`` cgroups with no process left in them).
    """
    _mpl_cache()
    caps = probe()
    if caps.cgroup:
        controllers = ("memory", "pids") if caps.cgroup == "v1" else ("",)
        for controller in controllers:
            base = Path("/sys/fs/cgroup") / controller / _own_cgroup(controller).lstrip("/")
            for stale in base.glob("ag-*"):
                owner = stale.name.split("-")[1]
                if owner.isdigit() and Path(f"/proc/{owner}").exists():
                    continue  # its grader is alive: not stale
                try:
                    if not (stale / "cgroup.procs").read_text().strip():
                        stale.rmdir()
                except OSError:
                    pass


def _readonly_paths() -> list[str]:
    """Host paths the box sees read-only (besides /usr and the runner)."""
    import sysconfig

    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             os.path.realpath(sysconfig.get_paths()["purelib"]),
             str((REPO / "factordata").resolve())}
    return sorted(p for p in paths if p and os.path.exists(p) and not p.startswith("/usr/"))


def _box_env(python: str) -> list[str]:
    env = {
        "PATH": f"{os.path.dirname(python)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "MPLCONFIGDIR": "/tmp/.matplotlib", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    for key in PASS_ENV:
        if key in os.environ:
            env[key] = os.environ[key]
    out = []
    for key, value in env.items():
        out += ["--setenv", key, value]
    return out


def box_command(caps: Capabilities, limits: Limits, uid: int | None, server_fd: int | None = None) -> list[str]:
    """The bubblewrap command line of one box.

    With ``server_fd``, the box of a fork server instead
    (:mod:`autograder.sandbox_forkserver`): it stays root inside (it builds
    its children's namespaces; each child drops to its own uid) and keeps
    the cgroup namespace (each child joins its cgroup, then unshares it).
    """
    python = sys.executable
    tmp_bytes = str(int(limits.tmp_mb * 2**20))
    unshare = [u for u in UNSHARE if server_fd is None or u != "--unshare-cgroup-try"]
    # No user namespace as root: its uid map would hold only root, and the
    # box must drop to a real, fresh, unprivileged uid (setpriv, below).
    cmd = [caps.bwrap, *unshare, "--die-with-parent", "--new-session",
           "--hostname", "sandbox", "--clearenv", *_box_env(python)]
    if not caps.root:
        cmd.insert(1, "--unshare-user")
    # The box's own /proc, /dev, /tmp and /dev/shm come first: the read-only
    # binds below may live under /tmp on the host (a clone in /tmp/...), and a
    # tmpfs mounted after them would hide them.
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp",
            "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm"]
    # Folders bubblewrap creates for mount points are 0700 (root's) unless
    # told otherwise; the box's uid must be able to walk through them.
    made = {"/tmp", "/dev", "/dev/shm", "/proc"}
    for path in _readonly_paths() + [BOX_RUNNER, BOX_MPL, BOX_SERVER]:
        parts = Path(path).parent.parts
        for k in range(2, len(parts) + 1):
            folder = str(Path(*parts[:k]))
            if folder not in made:
                made.add(folder)
                cmd += ["--perms", "0755", "--dir", folder]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = os.readlink(f"/{link}") if os.path.islink(f"/{link}") else None
        if target:
            cmd += ["--symlink", target, f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            cmd += ["--ro-bind", f"/{link}", f"/{link}"]
    if os.path.exists("/etc/ld.so.cache"):
        cmd += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for path in _readonly_paths():
        cmd += ["--ro-bind", path, path]
    cmd += ["--ro-bind", str(RUNNER), BOX_RUNNER]
    mpl = _mpl_cache()
    if mpl:
        cmd += ["--ro-bind", mpl, BOX_MPL]
    cmd += ["--chdir", "/tmp"]
    if server_fd is not None:
        return cmd + ["--ro-bind", str(SERVER), BOX_SERVER, "--", python, "-I", "-B", BOX_SERVER, str(server_fd)]
    if caps.root:
        cmd += ["--", shutil.which("setpriv") or "/usr/bin/setpriv",
                f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    else:
        cmd += ["--"]
    cmd += [python, "-I", "-B", BOX_RUNNER]
    return cmd


def plain_command() -> list[str]:
    """The runner as a plain child process (``--no-sandbox``; ``check``)."""
    return [sys.executable, "-I", "-B", str(RUNNER)]


def plain_env() -> dict:
    folder = tempfile.mkdtemp(prefix="ag-box-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": folder, "TMPDIR": folder,
           "LANG": "C.UTF-8", "MPLCONFIGDIR": os.path.join(folder, ".matplotlib"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "NBGRADER_EXECUTION": "autograde"}
    for key in PASS_ENV:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def box_rlimits(limits: Limits, per_uid: bool) -> list[tuple[int, int]]:
    """The rlimits of a box's processes.

    ``per_uid``: the box has a uid of its own (root grader), so the number
    of processes per uid caps the box.
    """
    rlimits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, int(limits.tmp_mb * 2**20)),
               (resource.RLIMIT_CPU, int(limits.notebook_timeout) + 5)]
    if limits.memory_mb:
        rlimits.append((resource.RLIMIT_AS, int(limits.memory_mb * 2**20)))
    if per_uid:
        rlimits.append((resource.RLIMIT_NPROC, limits.max_processes))
    return rlimits


class Box:
    """One running box: send the job, read frames, kill everything.

    Parameters
    ----------
    job : dict or None
        The runner's job (see :mod:`autograder.sandbox_runner`). None starts
        the box without one (it imports the course's libraries meanwhile);
        :meth:`send` gives it the job later.
    limits : Limits
    uid : int or None
        The box's uid (root only).
    sandbox : bool
        False: the runner as a plain child process (trusts the code).
    """

    def __init__(self, job: dict | None, limits: Limits, uid: int | None = None, sandbox: bool = True):
        self._fields(limits)
        caps = probe()
        if sandbox and not caps.sandboxed:
            raise Unavailable(caps.reason)
        memory = int(limits.memory_mb * 2**20) if limits.memory_mb else None
        if sandbox:
            cmd = box_command(caps, limits, uid)
            env = {}
            if caps.cgroup:
                self.cgroup = Cgroup(caps.cgroup, f"ag-{os.getpid()}-{secrets.token_hex(6)}",
                                     memory, limits.max_processes)
        else:
            cmd = plain_command()
            env = plain_env()
            self._plain_home = env["HOME"]
            mpl = _mpl_cache()
            if mpl:
                shutil.copytree(mpl, env["MPLCONFIGDIR"])
        cgroup = self.cgroup
        rlimits = box_rlimits(limits, per_uid=sandbox and caps.root)

        def preexec():  # runs in the child between fork and exec
            os.setsid()
            if cgroup is not None:
                cgroup.attach_self()
            for which, value in rlimits:
                try:
                    resource.setrlimit(which, (value, value))
                except (ValueError, OSError):
                    pass

        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, preexec_fn=preexec,
                                         cwd="/" if sandbox else self._plain_home, close_fds=True)
        except OSError as exc:
            self._cleanup()
            raise SandboxError(f"cannot start the sandbox: {exc}") from None
        self._stdin, self._stdout, self._stderr = self.proc.stdin, self.proc.stdout, self.proc.stderr
        self._begin(job)

    def _fields(self, limits):
        self.limits = limits
        self.cgroup = None
        self.proc = None
        self.stderr_tail = b""
        self.read_bytes = 0
        self._buffer = b""
        self._plain_home = None
        self._closed = False
        self._stdin = self._stdout = self._stderr = None

    def _begin(self, job):
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        self.started = time.monotonic()
        if job is not None:
            self.send(job)

    def send(self, job: dict) -> None:
        """Give the box its job (once)."""
        data = json.dumps(job).encode("utf-8", "surrogatepass")
        threading.Thread(target=self._feed, args=(data,), daemon=True).start()

    def _feed(self, data):
        try:
            self._stdin.write(data)
            self._stdin.close()
        except (OSError, ValueError):
            pass

    def _drain_stderr(self):
        while True:
            try:
                chunk = self._stderr.read(65536)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            self.stderr_tail = (self.stderr_tail + chunk)[-4096:]

    def next_frame(self, deadline: float, max_bytes: int):
        """The next frame as a dict; None at the end of the stream.

        Raises
        ------
        TimeoutError
            Nothing complete arrived before ``deadline`` (monotonic seconds).
        OverflowError
            The box sent more than ``max_bytes`` in all, or a frame that is
            not JSON.
        """
        fd = self._stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            self.read_bytes += len(chunk)
            if self.read_bytes > max_bytes:
                raise OverflowError("the notebook produced more output than the cap")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            frame = json.loads(line.decode("utf-8", "surrogatepass"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise OverflowError("the notebook's output could not be read (corrupted)") from None
        if not isinstance(frame, dict):
            raise OverflowError("the notebook's output could not be read (corrupted)")
        return frame

    def oom(self) -> bool:
        return self.cgroup is not None and self.cgroup.oom_killed()

    def close(self) -> None:
        """Kill the box and everything in it; remove its cgroup (once)."""
        if self._closed:
            return  # its pid may belong to someone else by now
        self._closed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        try:
            self.proc.kill()
        except (OSError, AttributeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, AttributeError):
            pass
        self._close_streams()
        self._cleanup()

    def _close_streams(self):
        for stream in (self._stdout, self._stderr, self._stdin):
            try:
                stream.close()
            except (OSError, AttributeError, ValueError):
                pass

    def _cleanup(self):
        if self.cgroup is not None:
            self.cgroup.destroy()
            self.cgroup = None
        if self._plain_home:
            shutil.rmtree(self._plain_home, ignore_errors=True)
            self._plain_home = None


# ---- boxes forked from a preloaded server (``grade``) ---------------------------------
class ForkServer:
    """A preloaded box that forks the boxes of a batch, one per submission.

    See :mod:`autograder.sandbox_forkserver` for what each forked box gets;
    it holds everything a box started by :class:`Box` holds, and skips the
    seconds of imports. Root with cgroups only (the children join cgroups
    and change uid): :func:`fork_server_possible`. ``grade`` starts one in
    the main process before its workers fork; the workers share it (a lock
    shared across the fork keeps one request and its reply together).

    Raises
    ------
    SandboxError
        The server did not start or did not get ready in time.
    """

    def __init__(self, limits: Limits):
        import multiprocessing
        import socket

        caps = probe()
        if not fork_server_possible():
            raise Unavailable("boxes are forked only by a root grader with cgroups")
        self._owner = os.getpid()
        ctx = multiprocessing.get_context("fork")
        self._lock = ctx.Lock()
        self._ready = ctx.Event()  # shared: one process reads "ready" for all
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = box_command(caps, limits, None, server_fd=theirs.fileno())
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, pass_fds=[theirs.fileno()],
                                         preexec_fn=os.setsid, cwd="/", env={}, close_fds=True)
        except OSError as exc:
            self._sock.close()
            raise SandboxError(f"cannot start the box server: {exc}") from None
        finally:
            theirs.close()
        self.stderr_tail = b""
        threading.Thread(target=self._drain, daemon=True).start()
        self._startup_timeout = limits.startup_timeout + 60

    def _drain(self):
        while True:
            try:
                chunk = self.proc.stderr.read(4096)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            self.stderr_tail = (self.stderr_tail + chunk)[-4096:]

    def _receive(self, deadline: float) -> dict:
        import socket

        self._sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self._sock.recv(65536)
        except (socket.timeout, OSError):
            return {}
        try:
            reply = json.loads(data) if data else {}
        except ValueError:
            return {}
        return reply if isinstance(reply, dict) else {}

    def wait_ready(self) -> None:
        """Block until the server has imported everything (once).

        Raises
        ------
        SandboxError
            It died or took longer than the start-up time.
        """
        if self._ready.is_set():
            return
        with self._locked():
            if not self._ready.is_set():
                reply = self._receive(time.monotonic() + self._startup_timeout)
                if reply.get("t") != "ready":
                    raise SandboxError("the box server did not start: "
                                       + self.stderr_tail.decode("utf-8", "replace").strip()[-300:])
                self._ready.set()

    @contextlib.contextmanager
    def _locked(self):
        """Hold the lock shared by the batch's processes (one request and its reply at a time)."""
        if not self._lock.acquire(timeout=self._startup_timeout):
            raise SandboxError("the box server is busy (no reply for a long time)")
        try:
            yield
        finally:
            self._lock.release()

    def alive(self) -> bool:
        """Whether the server process is still there (from any process of the batch)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def spawn(self, job: dict | None, limits: Limits, uid: int) -> "ForkedBox":
        """A new box for one submission (its own namespaces, uid and cgroup)."""
        return ForkedBox(self, job, limits, uid)

    def request(self, message: dict, fds: list[int], timeout: float) -> None:
        import socket

        self.wait_ready()
        message = dict(message, id=secrets.token_hex(8))
        deadline = time.monotonic() + timeout
        with self._locked():
            try:
                socket.send_fds(self._sock, [json.dumps(message).encode()], fds)
            except OSError as exc:
                raise SandboxError(f"the box server is gone: {exc}") from None
            reply = self._receive(deadline)
            while reply and reply.get("id") != message["id"]:  # a late reply to a request that gave up
                reply = self._receive(deadline)
        if not reply.get("ok"):
            raise SandboxError("the box server could not start a box: "
                               + (reply.get("error") or "no reply") + " "
                               + self.stderr_tail.decode("utf-8", "replace").strip()[-200:])

    def close(self) -> None:
        """Stop the server (only the process that started it does)."""
        if os.getpid() != self._owner:
            return
        try:
            self._sock.close()
        except OSError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass


class ForkedBox(Box):
    """A box forked by a :class:`ForkServer`; the same interface as :class:`Box`."""

    def __init__(self, server: ForkServer, job: dict | None, limits: Limits, uid: int):
        self._fields(limits)
        memory = int(limits.memory_mb * 2**20) if limits.memory_mb else None
        self.cgroup = Cgroup(probe().cgroup, f"ag-{os.getpid()}-{secrets.token_hex(6)}", memory,
                             limits.max_processes)
        rlimits = box_rlimits(limits, per_uid=True)
        ours, theirs = [], []
        try:
            for _ in range(3):
                r, w = os.pipe()
                ours.append(r)
                theirs.append(w)
            # stdin: the box reads, we write; stdout and stderr: the other way
            theirs[0], ours[0] = ours[0], theirs[0]
            cgroup_fds = [os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for path in self.cgroup.paths]
            try:
                server.request({"uid": int(uid), "tmp_bytes": int(limits.tmp_mb * 2**20),
                                "rlimits": [[int(k), int(v)] for k, v in rlimits]},
                               theirs + cgroup_fds, timeout=limits.startup_timeout)
            finally:
                for fd in theirs + cgroup_fds:
                    os.close(fd)
                theirs = []
        except BaseException:
            for fd in ours + theirs:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._cleanup()
            raise
        self._stdin = os.fdopen(ours[0], "wb")
        self._stdout = os.fdopen(ours[1], "rb", buffering=0)
        self._stderr = os.fdopen(ours[2], "rb", buffering=0)
        self._begin(job)

    def close(self) -> None:
        """Kill every process of the box (its cgroup), remove the cgroup (once)."""
        if self._closed:
            return
        self._closed = True
        self._cleanup()  # Cgroup.destroy: SIGKILL to all, then rmdir
        self._close_streams()


def fork_server_possible() -> bool:
    """Whether :class:`ForkServer` can work here: a root grader, bubblewrap, cgroups."""
    caps = probe()
    return caps.sandboxed and caps.root and caps.cgroup is not None


_SERVER: ForkServer | None = None
_SERVER_FAILED = False


def serve_boxes(limits: Limits) -> bool:
    """Start a fork server for this process and the workers it will fork.

    It imports in the background; the first box waits for it. Returns False,
    and :func:`start_box` keeps starting boxes one by one, where forking is
    not possible or the server does not start.
    """
    global _SERVER, _SERVER_FAILED
    if _SERVER is not None and _SERVER.alive():
        return True
    if _SERVER_FAILED or not fork_server_possible():
        return False
    try:
        _SERVER = ForkServer(limits)
    except SandboxError:
        _SERVER, _SERVER_FAILED = None, True
        return False
    import atexit

    atexit.register(_SERVER.close)
    return True


def start_box(job: dict | None, limits: Limits, uid: int | None, sandbox: bool = True) -> Box:
    """A box for one run of a submission: forked when a server is running.

    A server that died or cannot start a box is given up for this process;
    the box then starts on its own (the same isolation, seconds slower).
    """
    global _SERVER
    if sandbox and _SERVER is not None:
        if _SERVER.alive():
            try:
                return _SERVER.spawn(job, limits, uid)
            except (SandboxError, OSError) as exc:
                print(f"autograder: boxes start one by one from now on ({exc})", file=sys.stderr)
        _SERVER = None
    return Box(job, limits, uid=uid, sandbox=sandbox)


def stop_forking(box: Box) -> bool:
    """After ``box`` failed before running anything: if it was forked, stop forking.

    Returns True when it was (the caller then starts the run again; from now
    on :func:`start_box` starts every box on its own).
    """
    global _SERVER
    if not isinstance(box, ForkedBox):
        return False
    why = box.stderr_tail.decode("utf-8", "replace").strip()[-200:] or "no reason given"
    print(f"autograder: boxes start one by one from now on (a forked box failed: {why})", file=sys.stderr)
    _SERVER = None
    return True
