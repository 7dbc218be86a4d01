"""Boxes forked from a preloaded server (``grade`` as root): what one box can see.

``autograder grade`` forks each submission's box from a per-worker server
that imported numpy, pandas and statsmodels once
(:mod:`autograder.sandbox_forkserver`). A classmate graded just before, by
the same worker and the same server, must leave nothing the next box can
reach: not in memory (the server never reads a notebook), not in /tmp, not
as a process; and the forked box must hold exactly what a box started on
its own holds (own pid namespace, fresh uid, no capabilities, no network,
no inherited descriptors). The attacker below looks for all of it and
prints what it finds; the test reads its autograded notebook.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import nbformat
import pytest

import bad_submissions as bs

pytestmark = pytest.mark.slow

A = "alpha-beta"
UID_BASE = 1_000_000
SECRET = secrets.token_hex(16)
CLASSMATE_CODE = (
    f"# classmate-secret: {SECRET}\n"
    "import os\n"
    f"open('/tmp/classmate-{SECRET}', 'w').write('mine')\n"
    "print('CLASSMATE=' + str(os.getuid()))\n"
)
# The pattern is written so that the attacker's own code does not match it.
#: The attacker's own line matching the pattern: the scan must find it (it
#: is in the job the box read), which shows that the scan can see a notebook.
DECOY = "0" * 32
ATTACK_CODE = f"# classmate-secret: {DECOY}\n" + r'''
import json, os, re, socket
report = {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
with open("/proc/self/status") as fh:
    for line in fh:
        key, _, value = line.partition(":")
        if key in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs"):
            report[key] = value.strip()
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report["cmdlines"] = []
for p in report["pids"]:
    try:
        report["cmdlines"].append(open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace"))
    except OSError:
        pass
report["fds"] = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        report["fds"][fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
report["tmp"] = os.listdir("/tmp") + os.listdir("/dev/shm")
report["ifaces"] = [name for _, name in socket.if_nameindex()]
report["hostname"] = socket.gethostname()
report["env"] = sorted(os.environ)
pattern = re.compile(rb"classmate-secret" + rb": [0-9a-f]{32}")
found = []
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps:
        span, perms = line.split()[:2]
        if not perms.startswith("r") or "[vvar" in line or "[vsyscall" in line:
            continue
        lo, hi = (int(x, 16) for x in span.split("-"))
        try:
            mem.seek(lo)
            chunk = mem.read(hi - lo)
        except (OSError, OverflowError, ValueError):
            continue
        found += [m.group(0).decode() for m in pattern.finditer(chunk)]
report["memory_hits"] = found
try:
    os.kill(-1, 9 if False else 0)
    report["kill_all"] = "some process could be signalled"
except OSError as exc:
    report["kill_all"] = type(exc).__name__
print("FSREPORT=" + json.dumps(report))
'''


@pytest.fixture(scope="module")
def graded(course_copy):
    from autograder import sandbox

    if not sandbox.fork_server_possible():
        pytest.skip("boxes are forked only by a root grader with bubblewrap and cgroups: "
                    + sandbox.describe())
    course = course_copy("forkserver")
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    good = bs.solved(source, release)
    bs.submit(course, "aa-classmate", A, bs.insert_after(good, "q1-regression", CLASSMATE_CODE))
    attacker = bs.blank_of(release)
    bs.set_code(attacker, "ticker-answer", 'TICKER = "KO"')
    bs.append_code(attacker, "ticker-answer", ATTACK_CODE)
    bs.submit(course, "zz-attacker", A, attacker)
    # one worker: the classmate and the attacker share the server, one after the other
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", A, "--course", str(course),
                           "--jobs", "1", "--timeout", "20", "--no-progress"],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "AG_FORK_SECRET": SECRET})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = {}
    for student in ("aa-classmate", "zz-attacker"):
        text = (course / "autograded" / student / A / f"{A}.ipynb").read_text()
        out[student] = text
    printed = "".join(o.get("text", "") for c in nbformat.reads(out["zz-attacker"], as_version=4).cells
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    match = re.search(r"FSREPORT=(\{.*\})", printed)
    assert match, "the attacker's report is missing from its autograded notebook"
    report = json.loads(match.group(1))
    classmate_uid = int(re.search(r"CLASSMATE=(\d+)", out["aa-classmate"]).group(1))
    return dict(report=report, classmate_uid=classmate_uid, rows=bs.read_grades(course, A),
                attacker_text=out["zz-attacker"])


def test_the_box_was_forked_and_is_its_own_pid_namespace(graded):
    r = graded["report"]
    assert r["pid"] == 1, "a forked box's runner is the init of its own pid namespace"
    # the only process it can see is itself (its command line is the server's: a fork)
    assert r["pids"] == [1], r["cmdlines"]
    assert r["kill_all"] in ("ProcessLookupError", "PermissionError", "some process could be signalled")


def test_fresh_uid_no_capabilities(graded):
    r = graded["report"]
    assert r["uid"] >= UID_BASE and r["gid"] == r["uid"] and r["groups"] == []
    assert r["uid"] != graded["classmate_uid"]
    for key in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"):
        assert int(r[key], 16) == 0, (key, r[key])
    assert r["NoNewPrivs"] == "1"


def test_nothing_of_the_classmate_reachable(graded):
    r = graded["report"]
    hits = set(r["memory_hits"])
    assert f"classmate-secret: {DECOY}" in hits, "the memory scan did not even find the box's own notebook"
    assert hits == {f"classmate-secret: {DECOY}"}, "a classmate's notebook is in a forked box's memory"
    assert SECRET not in graded["attacker_text"]
    assert not any(SECRET in name for name in r["tmp"]), r["tmp"]


def test_no_network_no_descriptors_no_grader_environment(graded):
    r = graded["report"]
    assert set(r["ifaces"]) <= {"lo"}
    assert r["hostname"] == "sandbox"
    assert not [fd for fd, target in r["fds"].items() if target.startswith("socket:")], r["fds"]
    assert "AG_FORK_SECRET" not in r["env"]


def test_classmate_graded_normally(graded):
    rows = graded["rows"]
    assert float(rows["aa-classmate"]["autograded_score"]) == float(rows["aa-classmate"]["autograded_max"]) > 0
    assert float(rows["zz-attacker"]["autograded_score"]) == 0.0


def test_a_box_that_cannot_set_itself_up_falls_back_to_its_own_bubblewrap(released_course, monkeypatch):
    """A forked box that fails before running anything (here: a tmpfs size the
    kernel refuses) costs no grade: the run starts again in a box of its own,
    and the rest of the batch stops forking."""
    from autograder import sandbox
    from autograder.course import Course
    from autograder.grading import grade_notebook
    from autograder.spec import spec_for

    if not sandbox.fork_server_possible():
        pytest.skip("boxes are forked only by a root grader with bubblewrap and cgroups")
    course = Course(released_course)
    limits = course.limits(timeout=20)
    spec = spec_for(course, A)
    good = bs.solved(bs.read_nb(bs.source_path(released_course, A)), bs.read_nb(bs.release_path(released_course, A)))
    monkeypatch.setattr(sandbox, "_SERVER", None)
    monkeypatch.setattr(sandbox, "_SERVER_FAILED", False)
    assert sandbox.serve_boxes(limits)
    server = sandbox._SERVER
    try:
        real = server.request
        monkeypatch.setattr(server, "request", lambda message, fds, timeout: real(
            dict(message, tmp_bytes="not a size"), fds, timeout))
        result, _ = grade_notebook(bs.nb_bytes(good), spec, limits, config=course.config)
        assert result.status == "ok" and result.score == result.max_score, result.notes
        assert sandbox._SERVER is None
    finally:
        server.close()
