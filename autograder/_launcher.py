"""Start an IPython kernel under resource limits, as another user if root.

Run by :mod:`autograder.sandbox` as the kernel command::

    python _launcher.py '<json settings>' -f <connection file> [kernel args]

It sets the limits (``RLIMIT_AS`` memory cap, no core dumps, a file-size
cap, a process cap when running as a dedicated user), hands the sandbox
folder and connection file to the kernel's user, drops root privileges, and
runs ipykernel in this same process (no second interpreter start-up).

It is a plain script, not imported through the ``autograder`` package, so it
starts fast and imports nothing but the standard library before ipykernel.
"""

import json
import os
import resource
import sys


def _limit(which, value):
    if value:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


CAP_DAC_READ_SEARCH = 2
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38


def _drop_privileges(uid, gid, read_capability=True):
    """Become ``uid``/``gid``, keeping only the capability to read files.

    The interpreter and the course packages may live where other users cannot
    read (a Python under ``/root``); then (``read_capability``) the kernel
    keeps ``CAP_DAC_READ_SEARCH``, which lets it read them while it can write
    nowhere but its own folder (it can also read other files of the machine:
    install Python where all users can read it to avoid that). Reading the
    course's private files is caught by the audit hook of
    ``autograder.integrity``. ``no_new_privs`` stops setuid programs from
    giving root back.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS) failed")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    data[0].effective = data[0].permitted = (1 << CAP_DAC_READ_SEARCH) if read_capability else 0
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def exit_with_parent(interval=0.5):
    """Exit as soon as this process's parent dies (a daemon thread).

    Kernels run in their own session, so killing the grader's process group
    does not reach them; this makes them follow the grader instead of running
    student code on as orphans.
    """
    import threading
    import time

    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv):
    # Running as a script puts this folder first on sys.path; the kernel must
    # not see the autograder's modules as top-level names.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    settings = json.loads(argv[1])
    _limit(resource.RLIMIT_AS, settings.get("memory_bytes"))
    _limit(resource.RLIMIT_FSIZE, settings.get("fsize_bytes"))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    uid, gid = settings.get("uid"), settings.get("gid")
    if uid is not None and os.geteuid() == 0:
        for path in settings.get("chown", []):
            os.chown(path, uid, gid)
        _limit(resource.RLIMIT_NPROC, settings.get("nproc"))
        _drop_privileges(uid, gid, settings.get("read_capability", True))
    exit_with_parent()
    sys.argv = ["ipykernel_launcher"] + argv[2:]
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main(sys.argv)
