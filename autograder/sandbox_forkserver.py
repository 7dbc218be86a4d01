"""A preloaded parent for boxes: fork, isolate again, run one submission.

Why this exists: a box started from scratch spends ~4 s of CPU importing
numpy, pandas, statsmodels and matplotlib before the first cell, more than
the notebook itself takes. ``autograder grade`` therefore starts one
bubblewrap box per worker that runs this file: it imports the libraries
once (:func:`autograder.sandbox_runner.warm`), then forks a child for each
submission. Python cannot hand a warm interpreter to a fresh ``bwrap``
(bwrap always execs), so the per-submission isolation is done here with the
same kernel calls bubblewrap makes. Nothing here runs student code before
the child has dropped every privilege.

What the server is and sees
    It runs inside a bubblewrap box built like any other (:mod:`autograder.sandbox`):
    read-only ``/usr``, Python, the virtual environment, ``factordata`` and
    the two autograder files that run inside (this one and the runner); a
    tmpfs ``/tmp``; its own pid, network, IPC and UTS namespaces; a cleared
    environment. It keeps root's capabilities (the grader is root) because
    it must create namespaces and mounts for its children; it never reads a
    notebook: the job goes straight from the grader to the child through a
    pipe the server only passes on, so a child's memory holds no other
    student's work.

What each child gets (before any student code runs)
    * a new mount namespace with fresh, size-capped tmpfs ``/tmp`` and
      ``/dev/shm`` (the read-only paths bound below them, as when the
      repository is a clone in /tmp, bound again) and a ``/proc`` of its
      own pid namespace;
    * new pid (the child is its namespace's init: when it exits, the kernel
      kills everything it started), network (no interfaces but a down
      loopback), IPC, UTS and cgroup namespaces;
    * the submission's cgroup (memory and process caps), joined through
      ``cgroup.procs`` files the grader opened and passed in;
    * rlimits (address space, CPU seconds, file size, core dumps, processes
      per uid);
    * a fresh uid and gid chosen by the grader (never reused in a batch),
      no supplementary groups, an empty capability bounding set, no
      capabilities, ``no_new_privs``;
    * standard input, output and error from the grader's pipes, every other
      file descriptor closed (the server's socket included), the signal
      handlers reset.

Protocol (``SOCK_SEQPACKET`` socket on fd ``argv[1]``): the server sends
``{"t": "ready"}`` once warm; each request is one JSON message with the
pipes and cgroup files attached (``SCM_RIGHTS``)::

    {"id": "9f2c...", "uid": 1234567, "tmp_bytes": 67108864, "rlimits": [[9, 2147483648], ...]}
    fds: stdin (read end), stdout (write end), stderr (write end), cgroup.procs...

and the reply is ``{"id": ..., "ok": true}`` once the child is on its way,
or ``{"id": ..., "ok": false, "error": "..."}``. A child that fails to isolate itself
writes one line to its stderr and exits before reading the job.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sandbox_runner  # noqa: E402  (the runner, next to this file in the box)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 24, 38, 4
#: CAP_LAST_CAP of any current kernel (drops of unknown ones are ignored).
LAST_CAP = 63

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) > 4:  # octal escapes (\040 for a space) as the kernel writes them
                points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def _fresh_tmpfs(target: str, size: int) -> None:
    """Mount a fresh tmpfs on ``target``, keeping the read-only binds below it.

    The box's read-only paths (the virtual environment, ``factordata``) can
    live under /tmp on the host (a clone in /tmp/...); bubblewrap mounted
    them on the server's own /tmp, which the fresh tmpfs hides. They are
    held by ``O_PATH`` descriptors across the mount and bound again,
    read-only, at the same places.
    """
    points = sorted(p for p in set(_mount_points()) if p.startswith(target + "/"))
    tops = [p for p in points if not any(p.startswith(q + "/") for q in points if q != p)]
    held = {p: os.open(p, os.O_PATH) for p in tops}
    try:
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
        for path, fd in held.items():
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for fd in held.values():
            os.close(fd)


def _drop_privileges(uid: int) -> None:
    """Become ``uid``/``uid`` with no groups, no capabilities, no way back."""
    for cap in range(LAST_CAP + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such cap
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap} from the bounding set")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to non-root: permitted and effective capabilities are cleared
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
        raise OSError("the uid did not change")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # A uid change makes the process non-dumpable; a freshly exec'd process
    # of that uid would be dumpable (its own /proc files, multiprocessing).
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    with open("/proc/self/status") as fh:
        caps = {line.split(":")[0]: int(line.split()[1], 16) for line in fh if line.startswith("Cap")}
    if any(caps.values()):
        raise OSError(f"capabilities left after dropping them: {caps}")


def _child(request: dict, fds: list[int], sock: socket.socket) -> None:
    """In the forked child: isolate, then become the submission's box. Never returns."""
    code = 1
    try:
        sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        stdin, stdout, stderr, *cgroup_files = fds
        os.dup2(stderr, 2)
        os.setsid()
        for fd in cgroup_files:  # "0" is the writing process itself
            os.write(fd, b"0")
            os.close(fd)
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                             | CLONE_NEWCGROUP), "unshare")
        pid = os.fork()  # the next child is pid 1 of the new pid namespace
        if pid:
            os._exit(0)  # bubblewrap's init (the server's pid 1) adopts and reaps it
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        size = int(request["tmp_bytes"])
        for target in ("/tmp", "/dev/shm"):
            _fresh_tmpfs(target, size)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        socket.sethostname("sandbox")
        for which, value in request.get("rlimits", []):
            resource.setrlimit(int(which), (int(value), int(value)))
        _drop_privileges(int(request["uid"]))
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)
        os.chdir("/tmp")
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        try:
            import numpy

            numpy.random.seed()  # the server's legacy global state is shared by every fork
        except Exception:
            pass
        code = 2
        sandbox_runner.main(0)
    except BaseException as exc:  # noqa: BLE001  (report and leave, whatever it was)
        try:
            os.write(2, f"box set-up failed: {exc}\n".encode("utf-8", "replace")[:2000])
        except OSError:
            pass
    os._exit(code)


def serve(sock: socket.socket) -> None:
    sandbox_runner.warm()
    sock.send(b'{"t": "ready"}')
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 65536, 16)
        except OSError:
            return
        if not msg:
            return  # the grader closed its end
        request = {}
        try:
            request = json.loads(msg)
            if len(fds) < 3:
                raise ValueError("a request needs stdin, stdout and stderr")
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001
            for fd in fds:
                os.close(fd)
            sock.send(json.dumps({"ok": False, "error": str(exc), "id": request.get("id")}).encode())
            continue
        if pid == 0:
            _child(request, fds, sock)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)  # it exits as soon as its own child is started
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        sock.send(json.dumps({"ok": ok, "error": "" if ok else f"the box's set-up failed ({status})",
                              "id": request.get("id")}).encode())


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
