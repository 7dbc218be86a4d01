"""Hostile submissions against the sandboxed grading engine (one batch, through the CLI).

Each case of :func:`attack_cases` is a notebook built from the real
alpha-beta assignment (``tests/bad_submissions.py``) with the code a clever,
hostile student would hand in. All of them are graded in ONE
``autograder grade alpha-beta --jobs 2`` batch next to two honest control
students; then every case's outcome is asserted on its ``grades.csv`` row
and its feedback, and the batch as a whole on the machine: the course tree
and the repository unchanged, nothing owned by a box's uid left on the
host, no process of a box left, no cgroup of a box left.

A few attacks would stop the whole batch if they worked (student ids that
break the report): they are graded in a second, small batch. ``collect`` is
attacked at the end, without grading.

A case that the engine does not stop yet is marked ``xfail(strict=True)``
with ``reason="hole: ..."``; tests/attacks/README.md lists every case.

Limits are short so that the file runs in minutes: ``ATTACK_TIMEOUT``
seconds per cell (default 12; the box imports numpy, pandas and statsmodels
before the first cell, outside its timeout, so honest cells take about a
second) and ``ATTACK_NOTEBOOK_TIMEOUT`` (default 60 s, written into the
course copy's config as ``c.Autograder.notebook_timeout``). On a heavily
loaded machine, raise both.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

import bad_submissions as bs

pytestmark = pytest.mark.slow

A = "alpha-beta"
TIMEOUT = int(os.environ.get("ATTACK_TIMEOUT", "12"))
NOTEBOOK_TIMEOUT = int(os.environ.get("ATTACK_NOTEBOOK_TIMEOUT", "60"))
MEMORY_MB = 2048
REPO = Path(__file__).resolve().parents[1]
UID_BASE = 1_000_000
#: Marker in every name an attack plants, and in the comm of every process it starts.
MARK = "agattack" + hashlib.sha256(str(os.getpid()).encode()).hexdigest()[:6]
IDS = ["q1-regression", "q2-residuals", "q3-orthogonality", "q4-tstat", "q5-annualize"]
POINTS = {"q1-regression": 3, "q2-residuals": 3, "q3-orthogonality": 2, "q4-tstat": 2, "q5-annualize": 3}
TOTAL = sum(POINTS.values())
#: Printed by an attack when it got something it must not get.
LEAK = "LEAKED" + "-BY-ATTACK"


@dataclass
class Expect:
    why: str
    score: str | None = None          # "full", "zero" or None
    full: list = field(default_factory=list)
    zero: list = field(default_factory=list)
    status: str | None = None         # regex on the status column
    flag: str | None = None           # regex on status + flags
    absent: list = field(default_factory=list)  # strings that must not be in the feedback HTML
    hole: str | None = None           # known hole: the case is xfail(strict=True)


@dataclass
class Case:
    name: str
    nb: object                        # a notebook or raw bytes
    expect: Expect


# ---------------------------------------------------------------------------
# building the notebooks
# ---------------------------------------------------------------------------
def _name_proc(tag):
    """Code that renames the calling process (comm) so the test can find it later."""
    return f"_rename({tag!r})\n"


def _prolog():
    # LEAK is split in the source: the feedback shows the source, only a hit prints it whole
    return (f"MARK = {MARK!r}\nLEAK = {LEAK[:6]!r} + {LEAK[6:]!r}\n"
            "def _rename(tag):\n"
            "    import ctypes\n"
            "    ctypes.CDLL(None).prctl(15, (MARK[:12] + tag)[:15].encode(), 0, 0, 0)\n")


def blank_with_ticker(release):
    nb = bs.blank_of(release)
    bs.set_code(nb, "ticker-answer", 'TICKER = "KO"')
    return nb


def attack_cases(course: Path) -> list[Case]:
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    good = bs.solved(source, release)
    root = str(course.resolve())
    repo = str(REPO)
    cases = []

    def add(name, nb, expect):
        cases.append(Case(name, nb, expect))

    def good_plus(code, after="q1-regression"):
        return bs.insert_after(copy.deepcopy(good), after, _prolog() + code)

    def blank_plus(code, where="ticker-answer"):
        nb = blank_with_ticker(release)
        bs.append_code(nb, where, _prolog() + code)
        return nb

    # ---- full marks with no work --------------------------------------------
    add("cheat-ipython-hooks", blank_plus(
        "ip = get_ipython()\n"
        "def _neuter(lines):\n"
        "    text = ''.join(lines)\n"
        "    return ['pass\\n'] if 'assert' in text or 'checks' in text else lines\n"
        "ip.input_transformers_cleanup.append(_neuter)\n"
        "ip.input_transformers_post.append(_neuter)\n"
        "def _pre(info=None):\n"
        "    print('All tests passed. 3/3 points')\n"
        "ip.events.register('pre_run_cell', _pre)\n"
        "ip.events.register('post_run_cell', lambda result: setattr(result, 'error_in_exec', None))\n"
        ), Expect(
        "input transformers and pre/post_run_cell hooks that turn the test cells into `pass`: no work, 0",
        score="zero"))
    add("cheat-patch-numpy", blank_plus(
        "import numpy as np, pandas as pd, builtins, math, sys\n"
        "np.isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.core.numeric.isclose = np.isclose\n"
        "builtins.abs = lambda x: 0.0\nbuiltins.isinstance = lambda *a: True\n"
        "math.isclose = lambda *a, **k: True\nmath.isfinite = lambda *a: True\n"
        "pd.Series.equals = lambda *a, **k: True\n"
        "sys.modules['autograder'] = type(sys)('autograder')\n"
        "class _Any(float):\n"
        "    def __eq__(self, o): return True\n"
        "    def __lt__(self, o): return True\n"
        "    def __gt__(self, o): return True\n"
        "    __le__ = __ge__ = __lt__\n"
        "    def __abs__(self): return _Any(0.0)\n"
        "    def __float__(self): return 0.5\n"
        "    __hash__ = float.__hash__\n"
        "alpha = beta = var_e = r2 = tstat_alpha = alpha_annual = resid_vol_annual = _Any(0.5)\n"), Expect(
        "patches numpy, builtins, math and pandas and answers with always-equal floats: 0",
        score="zero"))
    add("cheat-stack-readers", blank_plus(
        "import sys, inspect, gc\n"
        "def _fish():\n"
        "    for fr in inspect.stack():\n"
        "        for k, v in fr.frame.f_locals.items():\n"
        "            if k in ('want', 'expected', 'reference') and isinstance(v, float):\n"
        "                return v\n"
        "    for o in gc.get_objects():\n"
        "        if type(o).__name__ == 'module' and getattr(o, '__name__', '').startswith('solutions'):\n"
        "            print(LEAK, 'solutions in gc')\n"
        "    return 0.5\n"
        "class StackFloat(float):\n"
        "    def __float__(self): return _fish()\n"
        "    def __reduce__(self): return (float, (_fish(),))\n"
        "    def __array__(self, *a, **k):\n"
        "        import numpy as np\n"
        "        return np.asarray(_fish())\n"
        "def _tracer(frame, event, arg):\n"
        "    if 'got' in frame.f_locals and 'want' in frame.f_locals:\n"
        "        frame.f_locals['got'] = frame.f_locals['want']\n"
        "    return _tracer\n"
        "sys.settrace(_tracer)\n"
        "import threading\nthreading.settrace(_tracer)\n"
        "import pandas as pd\n"
        "class StackSeries(pd.Series):\n"
        "    def to_numpy(self, *a, **k): return pd.Series.to_numpy(self) * 0 + _fish()\n"
        "alpha = beta = var_e = r2 = tstat_alpha = alpha_annual = resid_vol_annual = StackFloat(0.25)\n"
        "resid = StackSeries([0.0])\n"), Expect(
        "float/Series subclasses whose __float__/__reduce__/__array__ read the reference from the "
        "checker's stack, sys.settrace rewriting the checker's locals: 0", score="zero",
        absent=[LEAK]))
    add("cheat-fake-solutions", blank_plus(
        "import sys, types, importlib.abc, importlib.machinery\n"
        "class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('solutions', 'autograder'):\n"
        "            return importlib.machinery.ModuleSpec(name, self, is_package=True)\n"
        "    def create_module(self, spec): return None\n"
        "    def exec_module(self, module):\n"
        "        module.__path__ = []\n"
        "        module.__getattr__ = lambda n: (lambda *a, **k: None)\n"
        "sys.meta_path.insert(0, _Finder())\n"
        "_code = compile('def _ok(*a, **k): return None', "
        f"{repo + '/autograder/checks/_core.py'!r}, 'exec')\n"
        "_ns = {}\nexec(_code, _ns)\n"
        "try:\n"
        "    import autograder.checks as _c\n"
        "    _c.alpha_beta = types.SimpleNamespace(**{n: _ns['_ok'] for n in "
        "['alpha', 'beta', 'resid', 'var_e', 'r2', 'corr_resid_f', 'tstat_alpha', 'alpha_annual', 'resid_vol_annual']})\n"
        "except Exception as exc:\n"
        "    print('no autograder', exc)\n"
        "import os\n"
        "for _p in ['/work', '/root', " + repr(repo) + ", " + repr(repo + '/solutions') + "]:\n"
        "    try:\n"
        "        print(_p, os.listdir(_p))\n"
        "    except Exception as exc:\n"
        "        print(_p, type(exc).__name__)\n"
        "try:\n"
        "    _sol = open(" + repr(repo + "/solutions/__init__.py") + ").read()\n"
        "    print(LEAK, 'read solutions')\n"
        "except OSError:\n"
        "    pass\n"), Expect(
        "a sys.meta_path finder serving a fake `solutions` and `autograder`, code compiled with a "
        "filename inside autograder/, reading solutions/ from disk: 0, nothing read",
        score="zero", absent=[LEAK]))
    add("cheat-forge-frames", blank_plus(
        FORGE +
        "print('pipes', _fds)\n"
        "_ok = {'output_type': 'stream', 'name': 'stdout', 'text': 'ok'}\n"
        "for _i in range(0, 40):\n"
        "    _send({'t': 'done', 'i': _i, 'outputs': [_ok], 'count': 1, 'timed_out': False})\n"
        "    _send({'t': 'start', 'i': _i})\n"
        "    _vals = {n: {'kind': 'number', 'value': 0.001, 'integer': False} for n in "
        "['alpha', 'beta', 'var_e', 'r2', 'corr_resid_f', 'tstat_alpha', 'alpha_annual', 'resid_vol_annual']}\n"
        "    _vals['TICKER'] = {'kind': 'str', 'value': 'KO'}\n"
        "    _send({'t': 'export', 'i': _i, 'values': _vals})\n"
        "    _send({'t': 'done', 'i': _i, 'outputs': [_ok], 'count': 1, 'timed_out': False})\n"
        "_send({'t': 'export', 'i': 8, 'values': {'x': [[[[[[[[[[]]]]]]]]]]}})\n"
        "_send({'t': 'end'})\n"), Expect(
        "finds the frame pipe in /proc/self/fd and forges done/start/export/end frames (typed-in values "
        "for every answer, an early end): the forged answers are plain typed-in numbers, 0 "
        "(corr_resid_f typed in as 0.001 is not zero either)", score="zero"))
    add("cheat-lying-exports", blank_plus(
        "import numpy as np, pandas as pd, collections\n"
        "class Liar(float):\n"
        "    def __float__(self): raise RuntimeError('no')\n"
        "    def __repr__(self): return '0.0'\n"
        "class LyingSeries(pd.Series):\n"
        "    @property\n"
        "    def index(self): raise RuntimeError('no index')\n"
        "class LyingArray(np.ndarray):\n"
        "    def __array__(self, *a, **k): raise RuntimeError('no')\n"
        "class DictLike(collections.UserDict):\n"
        "    pass\n"
        "alpha = float('nan')\nbeta = float('inf')\nvar_e = Liar(1.0)\n"
        "r2 = DictLike({'value': 0.5})\n"
        "resid = LyingSeries(np.zeros(6864))\n"
        "tstat_alpha = np.zeros(10).view(LyingArray)\n"
        "alpha_annual = 'nan'\n"
        "resid_vol_annual = {'__float__': 0.3}\n"), Expect(
        "NaN, inf, objects whose __float__/index/__array__ lie or raise, dict-likes, strings: 0, graded",
        score="zero"))
    add("cheat-huge-exports", blank_plus(
        "import numpy as np, pandas as pd\n"
        "resid = pd.Series(np.zeros(2_000_000), index=[str(i) * 3 for i in range(2_000_000)])\n"
        "alpha = [[float(i)] * 10 for i in range(9_999)]\n"
        "beta = {str(i): 'x' * 9_000 for i in range(999)}\n"
        "var_e = np.zeros((3000, 2000))\n"
        "r2 = 'y' * 5_000_000\n"), Expect(
        "exports tens of MB (a 2M-label Series, long lists, dicts of long strings, a 6M array): "
        "the batch goes on, 0", score="zero"))
    add("typed-in-show-it", blank_plus("corr_resid_f = 0.0\n"), Expect(
        "types `corr_resid_f = 0.0` (a \"show it\" answer: the correlation OLS makes zero) and does "
        "nothing else: 0 for question 3", zero=["q3-orthogonality"], score="zero"))
    add("typed-in-disguised", blank_plus("globals()['corr_resid_f'] = float('0' + '.0')\n"), Expect(
        "the same typed-in zero, disguised from the AST scan (globals(), float of a string): 0 for question 3",
        zero=["q3-orthogonality"], score="zero"))

    # ---- harm to the grader, to classmates ------------------------------------
    escape = (
        "import os, socket, glob\n"
        "_hits = []\n"
        f"_targets = [{root!r} + '/' + MARK, {root!r} + '/submitted/control-a/{A}/{A}.ipynb',\n"
        f"            {root!r} + '/gradebook.db', {root!r} + '/nbgrader_config.py',\n"
        f"            {repo!r} + '/solutions/' + MARK, {repo!r} + '/autograder/' + MARK,\n"
        "            '/tmp/' + MARK, '/dev/shm/' + MARK, '/root/' + MARK, '/etc/' + MARK,\n"
        f"            '/proc/1/root/tmp/' + MARK, '/proc/1/root' + {root!r} + '/' + MARK]\n"
        "for _t in _targets:\n"
        "    try:\n"
        "        with open(_t, 'a') as _f:\n"
        "            _f.write('pwned')\n"
        "        _hits.append('wrote ' + _t)\n"
        "    except OSError:\n"
        "        pass\n"
        "for _t in ['/tmp/' + MARK, '/dev/shm/' + MARK]:\n"
        "    if os.path.exists(_t): _hits = [h for h in _hits if not h.endswith(_t)]  # the box's own tmpfs\n"
        "for _t in ['/tmp/' + MARK + '-link']:\n"
        "    try:\n"
        f"        os.symlink({root!r}, _t)\n"
        "    except OSError:\n"
        "        pass\n"
        f"for _p in ['/etc/shadow', '/etc/passwd', '/root/.bash_history', {root!r} + '/source/{A}/{A}.ipynb',\n"
        f"           {repo!r} + '/exercises/source/{A}/{A}.ipynb', {repo!r} + '/solutions/__init__.py',\n"
        "           '/proc/1/root/etc/shadow']:\n"
        "    try:\n"
        "        open(_p, 'rb').read()\n"
        "        _hits.append('read ' + _p)\n"
        "    except OSError:\n"
        "        pass\n"
        "import glob as _g\n"
        "for _p in _g.glob('/proc/*/environ') + ['/proc/1/environ']:\n"
        "    try:\n"
        "        if b'AG_ATTACK_SECRET' in open(_p, 'rb').read():\n"
        "            _hits.append('grader environment in ' + _p)\n"
        "    except OSError:\n"
        "        pass\n"
        "if 'AG_ATTACK_SECRET' in os.environ:\n"
        "    _hits.append('grader environment in os.environ')\n"
        "for _port in (22, 80, 8888, 5432):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', _port), timeout=0.5).close()\n"
        "        _hits.append(f'connected to 127.0.0.1:{_port}')\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "    _hits.append('DNS')\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"
        "    os.setuid(0)\n"
        "    _hits.append('setuid 0')\n"
        "except OSError:\n"
        "    pass\n"
        "import subprocess\n"
        "for _cmd in (['su', '-c', 'id -u'], ['sudo', '-n', 'id', '-u'], ['mount', '-t', 'tmpfs', 'x', '/tmp']):\n"
        "    try:\n"
        "        _r = subprocess.run(_cmd, capture_output=True, timeout=3)\n"
        "        if _r.returncode == 0: _hits.append('ran ' + _cmd[0])\n"
        "    except Exception:\n"
        "        pass\n"
        "print(os.getuid(), os.listdir('/'), glob.glob('/root/*') + glob.glob('/root/.*'))\n"
        "for _h in _hits:\n"
        "    print(LEAK, _h)\n")
    add("escape-filesystem-network", good_plus(escape), Expect(
        "writes to the course, the gradebook, another submission, the repository, host /tmp and "
        "/dev/shm, /root, /etc; reads /etc/shadow, the source notebook, solutions/, /proc/1/environ; "
        "connects to host ports and DNS; setuid/su/sudo/mount: nothing works, full marks",
        score="full", absent=[LEAK]))
    add("plant-then-exit", good_plus(
        "import os\n"
        "for _d in ('/tmp', '/dev/shm'):\n"
        "    open(os.path.join(_d, MARK + '-planted'), 'w').write('x')\n"
        "    os.symlink('/etc/shadow', os.path.join(_d, MARK + '-shadow'))\n"
        "os._exit(0)\n"), Expect(
        "plants files and symlinks in its /tmp and /dev/shm, then os._exit: kernel restarted, full marks",
        score="full", flag="died|exit|crash"))
    add("daemon", good_plus(
        "import os, time, threading\n"
        "def _daemon():\n"
        "    if os.fork():\n"
        "        return\n"
        "    os.setsid()\n"
        "    if os.fork():\n"
        "        os._exit(0)\n"
        "    _rename('d')\n"
        "    for _ in range(3000):\n"
        "        for _d in ('/tmp', '/dev/shm'):\n"
        "            try:\n"
        "                for _n in os.listdir(_d):\n"
        "                    open(os.path.join(_d, _n), 'a').write('tampered')\n"
        "            except OSError:\n"
        "                pass\n"
        "        time.sleep(0.2)\n"
        "    os._exit(0)\n"
        "_daemon()\n"
        "threading.Thread(target=time.sleep, args=(10_000,), daemon=False).start()\n"), Expect(
        "a setsid double-fork daemon that waits to tamper with later boxes, and a thread sleeping "
        "forever: nothing survives the box, full marks", score="full"))
    add("fork-bomb", good_plus(
        "import os, time\n"
        + _name_proc("f") +
        "_n = 0\n"
        "while _n < 100000:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(10_000)\n"
        "            os._exit(0)\n"
        "        _n += 1\n"
        "    except OSError:\n"
        "        time.sleep(0.01)\n"), Expect(
        "a fork bomb after question 1 (children sleep forever): capped by the box's process limit, "
        "interrupted, question 1 kept (its children still hold the box's processes: its own later cells "
        "may fail)", full=["q1-regression"], flag="time"))
    add("memory-forks", good_plus(
        "import os, time\n"
        + _name_proc("m") +
        "_kids = []\n"
        "for _ in range(4):\n"
        "    _pid = os.fork()\n"
        "    if _pid == 0:\n"
        "        _b = bytearray(700 * 2**20)\n"
        "        for _i in range(0, len(_b), 4096): _b[_i] = 1\n"
        "        time.sleep(10_000)\n"
        "        os._exit(0)\n"
        "    _kids.append(_pid)\n"
        "_b = bytearray(700 * 2**20)\n"
        "for _i in range(0, len(_b), 4096): _b[_i] = 1\n"
        "time.sleep(10_000)\n"), Expect(
        "4 forks and the kernel each touch 700 MB (3.5 GB against a 2 GB cap): stopped, full marks",
        score="full", flag="memory|died|time"))
    add("threads", good_plus(
        "import threading, time\n"
        "_ts = []\n"
        "try:\n"
        "    for _ in range(5000):\n"
        "        _t = threading.Thread(target=time.sleep, args=(10_000,), daemon=True)\n"
        "        _t.start()\n"
        "        _ts.append(_t)\n"
        "except RuntimeError as exc:\n"
        "    print('threads capped at', len(_ts))\n"), Expect(
        "starts thousands of threads sleeping forever: capped, full marks", score="full"))
    add("fill-disk", good_plus(
        "import os\n"
        "for _d in ('/tmp', '/dev/shm'):\n"
        "    try:\n"
        "        with open(os.path.join(_d, MARK + '-big'), 'wb') as _f:\n"
        "            for _ in range(4096):\n"
        "                _f.write(b'x' * 2**20)\n"
        "    except OSError as exc:\n"
        "        print('stopped', _d, exc.errno)\n"), Expect(
        "writes 4 GB into /tmp and /dev/shm: capped, full marks", score="full"))

    # ---- output floods ------------------------------------------------------------
    add("flood-streams", good_plus(
        "import sys, os\n"
        "for _ in range(3000):\n"
        "    print('x' * 10_000)\n"
        "    sys.stderr.write('y' * 10_000)\n"
        "os.write(1, b'z' * 10_000_000)\n"
        "os.write(2, b'z' * 10_000_000)\n"
        "sys.__stdout__.write('w' * 10_000_000)\n"), Expect(
        "floods stdout, stderr and the C-level fds with 80 MB: truncated, full marks",
        score="full"))
    add("flood-rich", good_plus(
        "from IPython.display import display, Image, HTML\n"
        "import base64\n"
        "_png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==')\n"
        "for _ in range(200):\n"
        "    display(Image(data=_png + b'\\0' * 500_000))\n"
        "    display({'text/plain': 'p' * 100_000, 'application/json': {'k': 'v' * 100_000}}, raw=True)\n"
        "class _Big:\n"
        "    def __repr__(self): return 'r' * 30_000_000\n"
        "_Big()\n"), Expect(
        "floods rich display data (100 MB of images, JSON) and a 30 MB execute_result: capped, full marks",
        score="full"))
    nb = copy.deepcopy(good)
    for k in range(4):
        bs.insert_after(nb, "q1-regression", f"raise ValueError('e' * 20_000_000)  # {k}")
    add("flood-traceback", nb, Expect(
        "4 cells each raising an exception whose message is 20 MB (80 MB in all): capped per cell, "
        "the rest of the notebook still graded, full marks",
        score="full"))
    nb = copy.deepcopy(good)
    for k in range(4):
        bs.insert_after(nb, "q1-regression", "from IPython.display import publish_display_data\n"
                        f"publish_display_data({{'text/plain': 'x'}}, metadata={{'m': 'x' * 20_000_000}})  # {k}")
    add("flood-display-metadata", nb, Expect(
        "4 cells each displaying data with 20 MB of metadata (not counted by the sink; 80 MB in all): "
        "capped, the rest still graded, full marks", score="full"))

    # ---- limits on time --------------------------------------------------------------
    nb = copy.deepcopy(good)
    for k in range(8):
        bs.insert_after(nb, "q1-regression", f"import time\ntime.sleep({max(1, TIMEOUT - 2)})  # {k}")
    add("slow-cells", nb, Expect(
        "8 cells each just under the cell timeout after question 1: the notebook's wall clock stops "
        "it; question 1 kept, the rest not run", full=["q1-regression"],
        zero=IDS[1:], status="timeout", flag="time limit|timeout|timed out"))
    add("ignores-signals", good_plus(
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "while True:\n"
        "    pass\n"), Expect(
        "ignores SIGINT and SIGALRM in a tight loop: killed, restarted, full marks",
        score="full", status="timeout"))
    add("sleep-in-c", good_plus(
        "import ctypes\nctypes.CDLL(None).sleep(100000)\n"), Expect(
        "sleeps in C (libc sleep, no Python signal check): killed, restarted, full marks",
        score="full", status="timeout"))

    # ---- strings that break reports ----------------------------------------------------
    nb = copy.deepcopy(good)
    bs.insert_after(nb, "q2-residuals",
                    "print('\\ud800 \\udfff \\x00\\x01\\x1b[31m\\r=HYPERLINK(\"http://evil.example\")')\n"
                    "import sys; sys.stderr.write('\\udcff\\x07')\n"
                    "raise ValueError('\\ud800\\x00=cmd|\" /C calc\"!A0')")
    cell = nbformat.v4.new_code_cell("x_\ud800 = '\ud800\x00\x1b'\n# \udfff")
    cell.metadata["nbgrader"] = {"grade_id": "=HYPERLINK(\"http://evil.example\")\ud800\x00", "grade": True,
                                 "solution": False, "locked": True, "points": 5, "schema_version": 3}
    nb.cells.insert(3, cell)
    md = nbformat.v4.new_markdown_cell("\ud800 \x00 \x1b[2J =1+1")
    nb.cells.insert(3, md)
    add("surrogates-and-controls", json.dumps(nb, ensure_ascii=True).encode(), Expect(
        "lone surrogates and control characters in a grade id, cell sources, printed text, stderr "
        "and an error; formulas in printed text and a grade id: the report is written, full marks",
        score="full"))

    # ---- feedback: leaks and active content -----------------------------------------------
    add("feedback-history", good_plus(
        "print(In)\nprint(_ih)\nprint(Out)\n"
        "%history -g\n"
        "print(get_ipython().history_manager.input_hist_raw)\n"
        "import gc\n"
        "for _o in gc.get_objects():\n"
        "    if isinstance(_o, str) and 'HIDDEN' in _o:\n"
        "        print(_o)\n"
        "    if isinstance(_o, dict) and 'steps' in _o:\n"
        "        print(_o)\n", after="q5-annualize"), Expect(
        "prints In, _ih, Out, %history, the history manager and every string and dict in memory: "
        "no hidden test reaches the feedback, full marks", score="full"))
    xss = ('<script>alert(1)</script> <img src=x onerror=alert(2)> <iframe src="https://evil.example"></iframe> '
           '[a](javascript:alert(3)) [b](&#106;avascript:alert(4)) <a href="jav&#x09;ascript:alert(5)">c</a> '
           '<svg onload=alert(6)></svg> <object data="javascript:alert(7)"></object>')
    nb = good_plus(
        "from IPython.display import display, HTML, Javascript, Markdown, SVG, IFrame\n"
        f"_x = {xss!r}\n"
        "display(HTML(_x))\ndisplay(Javascript('alert(8)'))\ndisplay(Markdown(_x))\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(9)\"></svg>'))\n"
        "display(IFrame('https://evil.example', 10, 10))\n"
        "display({'text/html': _x, 'text/plain': 'plain'}, raw=True)\n"
        "display({'text/html': _x}, raw=True)\n")
    bs.cell_by_id(nb, "w1-interpretation").source = xss + "\n\n" + bs.WRITTEN_ANSWER
    nb.cells.append(nbformat.v4.new_markdown_cell(xss))
    nb.cells.append(nbformat.v4.new_raw_cell(xss))
    add("feedback-active-content", nb, Expect(
        "<script>, <img onerror>, iframes, javascript: links (also entity-encoded), SVG onload in "
        "markdown answers, raw cells and HTML/Javascript/SVG display outputs: none reaches the "
        "feedback or the autograded notebook as active content, full marks", score="full"))
    nb = copy.deepcopy(good)
    bs.set_code(nb, "q4-tstat-code",
                "raise ValueError('[click me](javascript:alert(document.domain)) "
                "![t](https://evil.example/track.png) <script>alert(1)</script>')")
    add("feedback-message-markdown", nb, Expect(
        "an answer cell raising an error whose message is markdown (a javascript: link, a remote image): "
        "the message is shown as text in the feedback summary; question 4 gets 0, the rest full",
        full=[i for i in IDS if i != "q4-tstat"], zero=["q4-tstat"]))
    nb = copy.deepcopy(good)
    bs.cell_by_id(nb, "q1-regression-code")["id"] = 'x"><script>alert(1)</script>'
    add("bad-cell-id", nb, Expect(
        "an nbformat cell id that is not valid (\"><script>...): feedback still written, full marks",
        score="full"))

    # ---- the file itself ----------------------------------------------------------------
    nb = copy.deepcopy(good)
    for c in nb.cells:
        c["attachments"] = {"big.png": {"image/png": "A" * 100_000}}
        c.metadata["junk"] = "j" * 100_000
    nb.metadata["junk"] = "k" * 2_000_000
    add("bloated-metadata", nb, Expect(
        "10 MB of attachments and metadata under the size cap: stripped, full marks", score="full"))
    raw = bs.nb_bytes(good)
    big = json.loads(raw)
    big["metadata"]["junk"] = "z" * (60 * 2**20)
    add("huge-file", json.dumps(big).encode(), Expect(
        "a 60 MB notebook (over the 50 MB default cap, c.Autograder.max_submission_mb): refused, 0",
        score="zero", status="invalid"))
    return cases


# ---------------------------------------------------------------------------
# the machine, before and after
# ---------------------------------------------------------------------------
def tree_hashes(root: Path, tops) -> dict:
    out = {}
    for top in tops:
        base = root / top
        if not base.exists():
            continue
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()
                                                       and "__pycache__" not in p.parts)
        for p in paths:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def owners(root: Path) -> dict:
    out = {}
    for p in [root, *root.rglob("*")]:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        out[str(p)] = (st.st_uid, st.st_gid)
    return out


def box_processes() -> list[tuple[int, int, str, bool]]:
    """(uid, pid, cmd, has a live bwrap ancestor) of every process with a box uid."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            uid = d.stat().st_uid
            if uid < UID_BASE:
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        out.append((uid, int(d.name), f"{comm}: {cmd}", _bwrap_ancestor(int(d.name))))
    return out


def _bwrap_ancestor(pid: int) -> bool:
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        comm = text[text.index("(") + 1:text.rindex(")")]
        if comm == "bwrap":
            return True
        pid = int(text.rsplit(")", 1)[1].split()[1])
    return False


def marked_processes() -> list[str]:
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(MARK[:12]):
            out.append(f"{d.name} {comm}")
    return out


def dead_box_cgroups() -> list[str]:
    """ag-<pid>-* cgroups whose grader process is gone (a box the grader did not remove).

    Other graders may run on the machine: a cgroup counts only if its worker is
    dead and it is still there 5 s later.
    """
    first = _dead_box_cgroups()
    if first:
        time.sleep(5)
    return sorted(set(first) & set(_dead_box_cgroups()))


def _dead_box_cgroups() -> list[str]:
    out = []
    for base in (Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"),
                 Path("/sys/fs/cgroup")):
        if not base.is_dir():
            continue
        try:
            found = list(base.glob("**/ag-*"))
        except OSError:
            continue
        for p in found:
            m = re.match(r"ag-(\d+)-", p.name)
            if m and p.is_dir() and not Path(f"/proc/{m.group(1)}").exists():
                out.append(str(p))
    return out


def host_plants(since: float) -> list[str]:
    out = []
    for d in (Path("/tmp"), Path("/dev/shm"), Path("/root"), Path("/etc")):
        try:
            entries = list(d.iterdir())
        except OSError:
            continue
        for p in entries:
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if MARK in p.name or (st.st_uid >= UID_BASE and st.st_mtime >= since):
                out.append(str(p))
    return out


class Run:
    pass


#: Put into the grader's environment: no box may see it.
GRADER_ENV = {**os.environ, "AG_ATTACK_SECRET": "grader-secret"}


def grade_cmd(course, *extra):
    return [sys.executable, "-m", "autograder", "grade", A, "--course", str(course), "--jobs", "2",
            "--timeout", str(TIMEOUT), "--memory-mb", str(MEMORY_MB), "--no-progress", *extra]


def _set_notebook_timeout(course: Path):
    cfg = course / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + f"\nc.Autograder.notebook_timeout = {NOTEBOOK_TIMEOUT}\n")


@pytest.fixture(scope="module")
def batch(course_copy):
    r = Run()
    course = r.course = course_copy("attacks")
    _set_notebook_timeout(course)
    source = bs.read_nb(bs.source_path(course, A))
    good = bs.solved(source, bs.read_nb(bs.release_path(course, A)))
    # an earlier grade that the hostile batch must not change
    bs.submit(course, "early-good", A, good)
    early = subprocess.run(grade_cmd(course), capture_output=True, text=True, timeout=900)
    assert early.returncode == 0, early.stderr[-3000:]
    r.before_rows = bs.read_grades(course, A)
    r.cases = attack_cases(course)
    for case in r.cases:
        bs.submit(course, case.name, A, case.nb)
    bs.submit(course, "control-a", A, good)
    bs.submit(course, "zz-control", A, good)
    tops = ("source", "release", "submitted", "nbgrader_config.py")
    r.course_before = tree_hashes(course, tops)
    r.repo_before = tree_hashes(REPO, ("solutions", "autograder", "exercises/source", "factordata",
                                       "exercises/nbgrader_config.py"))
    r.owners_before = owners(course)
    r.started = time.time()
    t0 = time.monotonic()
    r.proc = subprocess.run(grade_cmd(course), capture_output=True, text=True, timeout=1800, env=GRADER_ENV)
    r.seconds = time.monotonic() - t0
    time.sleep(2)
    r.course_after = tree_hashes(course, tops)
    r.repo_after = tree_hashes(REPO, ("solutions", "autograder", "exercises/source", "factordata",
                                      "exercises/nbgrader_config.py"))
    r.owners_after = owners(course)
    r.processes = [p for p in box_processes() if not p[3]]
    r.marked = marked_processes()
    r.cgroups = dead_box_cgroups()
    r.plants = host_plants(r.started - 1)
    r.rows = bs.read_grades(course, A) if (course / "reports" / A / "grades.csv").exists() else {}
    return r


def _case_names():
    return ["cheat-ipython-hooks", "cheat-patch-numpy", "cheat-stack-readers", "cheat-fake-solutions",
            "cheat-forge-frames", "cheat-lying-exports", "cheat-huge-exports", "typed-in-show-it",
            "typed-in-disguised", "escape-filesystem-network", "plant-then-exit", "daemon", "fork-bomb",
            "memory-forks", "threads", "fill-disk", "flood-streams", "flood-rich", "flood-traceback",
            "flood-display-metadata", "slow-cells", "ignores-signals", "sleep-in-c",
            "surrogates-and-controls", "feedback-history", "feedback-active-content",
            "feedback-message-markdown", "bad-cell-id", "bloated-metadata", "huge-file"]


#: Known holes (see the cases' Expect.hole); the lead flips these when fixed.
HOLES: dict = {}  # every hole found was fixed; a new one goes here (strict xfail) until it is


def _params():
    out = []
    for name in _case_names():
        marks = [pytest.mark.xfail(strict=True, reason=HOLES[name])] if name in HOLES else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def test_cases_listed(batch):
    assert [c.name for c in batch.cases] == _case_names()
    readme = (Path(__file__).parent / "attacks" / "README.md").read_text()
    for c in batch.cases:
        assert f"`{c.name}`" in readme, f"{c.name} missing from tests/attacks/README.md"
        assert (c.name in HOLES) == (c.expect.hole is not None), c.name


def test_batch_finishes_and_writes_grades(batch):
    p = batch.proc
    print(f"attack batch: {len(batch.cases)} cases + 3 controls in {batch.seconds:.0f} s")
    assert p.returncode == 0, f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    expected = {c.name for c in batch.cases} | {"control-a", "zz-control", "early-good"}
    assert set(batch.rows) == expected


def _feedback(course, student):
    path = course / "feedback" / student / A / f"{A}.html"
    return path.read_text("utf-8", "replace") if path.exists() else None


@pytest.mark.parametrize("name", _params())
def test_case_outcome(batch, name):
    case = next(c for c in batch.cases if c.name == name)
    e = case.expect
    row = batch.rows.get(name)
    assert row is not None, f"{name} missing from grades.csv"
    why = f"{name} ({e.why}): got {row}"
    score, maxi = bs.num(row["autograded_score"]), bs.num(row["autograded_max"])
    assert maxi == TOTAL, why
    if e.score == "full":
        assert score == TOTAL, why
    elif e.score == "zero":
        assert score == 0, why
    for q in e.full:
        assert bs.num(row[q]) == POINTS[q], f"{q} should keep its points: {why}"
    for q in e.zero:
        assert bs.num(row[q]) == 0, f"{q} should get nothing: {why}"
    if e.status:
        assert re.search(e.status, row["status"]), why
    if e.flag:
        assert re.search(e.flag, f"{row['status']} {row['flags']}", re.I), why
    html = _feedback(batch.course, name)
    assert html is not None, f"no feedback for {name}"
    for s in e.absent:
        assert s not in html, f"{s!r} in the feedback of {name}"
    if name in ("feedback-active-content", "feedback-message-markdown", "bad-cell-id"):
        _assert_inert(batch.course, name, html)


ACTIVE = [re.compile(p, re.I) for p in (
    r"<script>alert", r"<img[^>]*\bonerror", r"<svg[^>]*\bonload", r"<iframe", r"<object",
    r"href=\"\s*javascript:", r"href=\"\s*jav&#", r"<img[^>]*src=\"https?://evil")]


def _assert_inert(course, name, html):
    found = [p.pattern for p in ACTIVE if p.search(html)]
    assert not found, f"active content in the feedback of {name}: {found}"
    nb_path = course / "autograded" / name / A / f"{A}.ipynb"
    nb = json.loads(nb_path.read_text("utf-8"))
    for cell in nb["cells"]:
        locked = cell.get("metadata", {}).get("nbgrader", {}).get("locked")
        if cell["cell_type"] in ("markdown", "raw") and not locked:
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            bad = [p.pattern for p in ACTIVE if p.search(text)]
            assert not bad, f"active content in a markdown cell of the autograded notebook of {name}: {bad}"
        for out in cell.get("outputs", []):
            mimes = set(out.get("data", {}))
            assert mimes <= {"text/plain", "image/png", "image/jpeg"}, (name, mimes)
        ids = cell.get("id")
        assert ids is None or re.fullmatch(r"[A-Za-z0-9_-]{1,64}", ids), (name, ids)


def test_controls_full_marks_and_unchanged(batch):
    for student in ("control-a", "zz-control", "early-good"):
        row = batch.rows[student]
        assert bs.num(row["autograded_score"]) == TOTAL and row["status"] == "ok" and not row["flags"], row
    assert batch.rows["early-good"] == batch.before_rows["early-good"]
    assert batch.rows["control-a"] == {**batch.rows["zz-control"], "student": "control-a"}


def test_course_and_repository_unchanged(batch):
    changed = sorted(k for k in set(batch.course_before) | set(batch.course_after)
                     if batch.course_before.get(k) != batch.course_after.get(k))
    assert not changed, f"grading changed files of the course: {changed[:10]}"
    changed = sorted(k for k in set(batch.repo_before) | set(batch.repo_after)
                     if batch.repo_before.get(k) != batch.repo_after.get(k))
    assert not changed, f"grading changed files of the repository: {changed[:10]}"
    planted = [str(p) for p in batch.course.rglob(f"*{MARK}*")] + [str(p) for p in REPO.rglob(f"*{MARK}*")
                                                                    if ".venv" not in p.parts]
    assert not planted, planted


def test_no_owner_changed_and_nothing_owned_by_a_box(batch):
    changed = {k: (v, batch.owners_after.get(k)) for k, v in batch.owners_before.items()
               if k in batch.owners_after and batch.owners_after[k] != v}
    assert not changed, f"owner changed: {list(changed.items())[:5]}"
    boxed = [k for k, (uid, gid) in batch.owners_after.items() if uid >= UID_BASE or gid >= UID_BASE]
    assert not boxed, f"files owned by a box's uid in the course: {boxed[:5]}"
    assert not batch.plants, f"files planted on the host: {batch.plants}"


def test_no_process_of_a_box_left(batch):
    assert not batch.marked, f"attack processes still running: {batch.marked}"
    assert not batch.processes, f"box processes outside any box: {batch.processes[:5]}"


def test_no_cgroup_of_a_box_left(batch):
    assert not batch.cgroups, f"cgroups of boxes left behind: {batch.cgroups[:5]}"


def test_no_hidden_test_in_any_feedback(batch):
    secrets = bs.hidden_lines(bs.read_nb(bs.source_path(batch.course, A)))
    for path in (batch.course / "feedback").rglob("*.html"):
        text = path.read_text("utf-8", "replace")
        found = [s for s in secrets if s in text or s in bs.normalise(text)]
        assert not found, f"{path}: {found[:2]}"
        assert "BEGIN HIDDEN" not in text and "BEGIN SOLUTION" not in text, path


def test_grades_csv_is_safe(batch):
    raw = (batch.course / "reports" / A / "grades.csv").read_bytes()
    text = raw.decode("utf-8")  # valid UTF-8: no lone surrogates
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    for row in csv.reader(text.splitlines()):
        for cell in row:
            assert not cell[:1] in ("=", "+", "-", "@", "\t", "\r") or re.fullmatch(r"-?[0-9.]+", cell), row


# ---------------------------------------------------------------------------
# a second, small batch: student ids that could break the whole report
# ---------------------------------------------------------------------------
BREAKER_IDS = {
    "formula-id": '=HYPERLINK("http:evil.example","x")',
    "newline-id": "new\nline\x1b[31m",
}
#: Added after the first breaker run (it stops the whole batch while the hole is open).
SURROGATE_ID = os.fsdecode(b"bad\xff\xfeid")


#: Code that finds the runner's frame pipe (its private dup of fd 1) and writes frames into it.
FORGE = (
    "import os, json, stat\n"
    "_fds = []\n"
    "for _fd in map(int, os.listdir('/proc/self/fd')):\n"
    "    try:\n"
    "        if stat.S_ISFIFO(os.fstat(_fd).st_mode) and os.readlink(f'/proc/self/fd/{_fd}').startswith('pipe:'):\n"
    "            _fds.append(_fd)\n"
    "    except OSError:\n"
    "        pass\n"
    "def _send(frame):\n"
    "    for _fd in _fds:\n"
    "        try:\n"
    "            _data = (json.dumps(frame) + '\\n').encode()\n"
    "            _view = memoryview(_data)\n"
    "            while _view:\n"
    "                _view = _view[os.write(_fd, _view):]\n"
    "        except OSError:\n"
    "            pass\n"
    "_me = get_ipython().execution_count\n"
)


def forged_cases(course: Path) -> list[Case]:
    """Frames forged on the runner's pipe that aim at the grader itself (small batch)."""
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    tests = [bs.index_of(release, q) for q in IDS]
    cells = [i for i, c in enumerate(release.cells) if c.cell_type == "code"]

    def blank_plus(code):
        nb = blank_with_ticker(release)
        bs.append_code(nb, "ticker-answer", FORGE + code)
        return nb

    me = bs.index_of(release, "ticker-answer")
    walk = (f"_cells = {cells!r}\n_tests = {tests!r}\n"
            f"_send({{'t': 'done', 'i': {me}, 'outputs': [], 'count': 1, 'timed_out': False}})\n"
            f"for _i in [c for c in _cells if c > {me}]:\n"
            "    _send({'t': 'start', 'i': _i})\n"
            "    if _i in _tests:\n"
            "        _send({'t': 'export', 'i': _i, 'values': _values(_i)})\n"
            "    _send({'t': 'done', 'i': _i, 'outputs': _outputs(_i), 'count': 1, 'timed_out': False})\n"
            "_send({'t': 'end'})\n")
    cases = []
    long_ticker = blank_plus(
        "def _values(i):\n"
        "    out = {n: {'kind': 'number', 'value': 0.5, 'integer': False} for n in ['alpha', 'beta', 'var_e', 'r2',"
        " 'corr_resid_f', 'tstat_alpha', 'alpha_annual', 'resid_vol_annual']}\n"
        "    out['resid'] = {'kind': 'none'}\n"
        "    out['TICKER'] = {'kind': 'str', 'value': 'A' * 2_000_000}\n"
        "    return out\n"
        "def _outputs(i): return []\n" + walk)
    cases.append(Case("forge-long-ticker", long_ticker, Expect(
        "forges an export of a 2 MB TICKER before every test cell (the runner caps strings at 10,000 "
        "characters; a forged frame does not): the messages that quote it stay short, feedback under "
        "2 MB, 0", score="zero")))
    crash = blank_plus(
        "def _values(i):\n"
        "    return {'TICKER': {'kind': 'str', 'value': 'KO'}, 'alpha': {'kind': 'number', 'value': 10 ** 400},\n"
        "            'beta': {'kind': 'number', 'value': 10 ** 400}, 'var_e': {'kind': 'number', 'value': 10 ** 400}}\n"
        "def _outputs(i): return []\n"
        "_deep = '{\"kind\": \"list\", \"items\": [' * 3000 + '{\"kind\": \"none\"}' + ']}' * 3000\n"
        + walk.replace("_send({'t': 'end'})",
                       "[os.write(_fd, ('{\"t\": \"x\", \"v\": %s}\\n' % _deep).encode()) for _fd in _fds]\n"
                       "_send({'t': 'end'})"))
    cases.append(Case("forge-grader-error", crash, Expect(
        "forges exports the grader cannot decode (an integer of 400 digits, lists nested 3000 deep): "
        "0, and not reported as the grader's own error", score="zero", status="^(?!error$)")))
    flood = blank_plus(
        "def _values(i): return {'TICKER': {'kind': 'str', 'value': 'KO'}}\n"
        "def _outputs(i):\n"
        "    return [{'output_type': 'stream', 'name': 'stdout', 'text': ('o' * 1999 + '\\n') * 1000}] * 8\n"
        + walk)
    cases.append(Case("forge-output-flood", flood, Expect(
        "forges done frames whose outputs hold 16 MB per cell (the runner caps a cell at 2 MB; a forged "
        "frame is capped only by the 64 MB total): feedback and autograded notebook stay small, 0",
        score="zero")))
    return cases


def run_killable(cmd, timeout):
    """Run ``cmd`` in its own session; kill the whole session after ``timeout`` s. (proc, seconds, hung)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=GRADER_ENV)
    try:
        out, err = proc.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        hung = True
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), time.monotonic() - t0, hung


@pytest.fixture(scope="module")
def breakers(course_copy):
    r = Run()
    course = r.course = course_copy("breakers")
    _set_notebook_timeout(course)
    source = bs.read_nb(bs.source_path(course, A))
    release = bs.read_nb(bs.release_path(course, A))
    good = bs.solved(source, release)
    for student in BREAKER_IDS.values():
        bs.submit(course, student, A, bs.blank_of(release))
    r.cases = forged_cases(course)
    for case in r.cases:
        bs.submit(course, case.name, A, case.nb)
    bs.submit(course, "control", A, good)
    # CPU: a box that starts 40 busy processes, each in a session (an autogroup) of its own, while
    # a classmate's box runs next to it. Names sort so that the pool starts the hog at once and the
    # victim as soon as the first (blank) submission is done.
    hog = blank_with_ticker(release)
    bs.append_code(hog, "ticker-answer", _prolog() + CPU_HOG)
    bs.insert_after(hog, "ticker-answer", "import time\ntime.sleep(10_000)")
    bs.submit(course, "aa-cpu-hog", A, hog)
    bs.submit(course, "ab-victim", A, good)
    r.proc, r.seconds, r.hung = run_killable(grade_cmd(course), 600)
    path = course / "reports" / A / "grades.csv"
    r.csv = path.read_bytes() if path.exists() else None
    # then a folder whose name is not UTF-8 (the others are cached: only it is graded)
    bs.submit(course, SURROGATE_ID, A, bs.blank_of(release))
    r.proc2, _, r.hung2 = run_killable(grade_cmd(course), 300)
    r.csv2 = path.read_bytes() if path.exists() else None
    return r


CPU_HOG = (
    "import os, time\n"
    "for _ in range(40):\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        _rename('h')\n"
    "        _t = time.time()\n"
    "        while time.time() - _t < 60:\n"
    "            pass\n"
    "        os._exit(0)\n"
    "time.sleep(10_000)\n"
)


def test_cpu_hog_does_not_starve_a_classmate(breakers):
    """40 busy processes in sessions of their own must not make a classmate's cells time out."""
    rows = {r["student"]: r for r in csv.DictReader(breakers.csv.decode("utf-8").splitlines())}
    victim = rows["ab-victim"]
    assert bs.num(victim["autograded_score"]) == TOTAL and victim["status"] == "ok", victim


FORGED_CASES = ("forge-long-ticker", "forge-grader-error", "forge-output-flood")


@pytest.mark.parametrize("name", FORGED_CASES)
def test_forged_frames(breakers, name):
    assert not breakers.hung, f"the batch did not finish in 600 s: {breakers.proc.stderr[-2000:]}"
    assert breakers.proc.returncode == 0 and breakers.csv is not None, breakers.proc.stderr[-2000:]
    case = next(c for c in breakers.cases if c.name == name)
    rows = {r["student"]: r for r in csv.DictReader(breakers.csv.decode("utf-8").splitlines())}
    row = rows[name]
    why = f"{name} ({case.expect.why}): got {row}"
    assert bs.num(row["autograded_score"]) == 0, why
    if case.expect.status:
        assert re.search(case.expect.status, row["status"]), why
    fb = breakers.course / "feedback" / name / A / f"{A}.html"
    nb = breakers.course / "autograded" / name / A / f"{A}.ipynb"
    assert fb.exists(), why
    # What a notebook keeps is capped at max_output_mb (2 MB) in all; the page adds its template.
    assert fb.stat().st_size < 3 * 2**20, f"feedback of {fb.stat().st_size} bytes: {why}"
    assert nb.stat().st_size < 4 * 2**20, f"autograded notebook of {nb.stat().st_size} bytes: {why}"


def test_breaker_surrogate_id(breakers):
    p = breakers.proc2
    assert not breakers.hung2 and p.returncode == 0, p.stderr[-2000:]
    rows = list(csv.DictReader(breakers.csv2.decode("utf-8").splitlines()))
    assert len(rows) == 4 + len(BREAKER_IDS) + len(breakers.cases), rows
    mine = [r for r in rows if r["student"].startswith("bad")]
    assert len(mine) == 1 and bs.num(mine[0]["autograded_score"]) == 0, rows


@pytest.mark.parametrize("kind", list(BREAKER_IDS))
def test_breaker_ids(breakers, kind):
    p = breakers.proc
    assert not breakers.hung, f"the batch did not finish in 600 s: {p.stderr[-2000:]}"
    assert p.returncode == 0 and breakers.csv is not None, p.stderr[-2000:]
    text = breakers.csv.decode("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 3 + len(BREAKER_IDS) + len(breakers.cases), text
    control = [r for r in rows if r["student"] == "control"]
    assert control and bs.num(control[0]["autograded_score"]) == TOTAL, text
    raw = BREAKER_IDS[kind]
    mine = [r for r in rows if r["student"] not in ("control", "aa-cpu-hog", "ab-victim")
            and not r["student"].startswith("forge-") and r["student"].strip("'")[:3] == raw[:3]]
    assert len(mine) == 1, (kind, text)
    assert bs.num(mine[0]["autograded_score"]) == 0
    assert not mine[0]["student"].startswith(("=", "+", "-", "@"))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", mine[0]["student"])


# ---------------------------------------------------------------------------
# collect (all four were holes before the lms merge, 8f478f2: collect followed
# symlinks into the source notebook and to root-only files, blocked on a FIFO,
# and replaced a submission when another name mapped to the same id)
# ---------------------------------------------------------------------------
def _collect(course, downloads, timeout=120):
    try:
        return subprocess.run([sys.executable, "-m", "autograder", "collect", A, str(downloads),
                               "--course", str(course)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@pytest.fixture(scope="module")
def collect_course(course_copy):
    return course_copy("collect-attacks")


def test_collect_symlink_to_source_notebook(collect_course, tmp_path):
    course = collect_course
    downloads = tmp_path / "dl"
    downloads.mkdir()
    (downloads / "mallory.ipynb").symlink_to(bs.source_path(course, A))
    (downloads / "trudy").symlink_to(course / "source", target_is_directory=True)
    proc = _collect(course, downloads)
    assert proc is not None and proc.returncode == 0, proc and proc.stderr
    for student in ("mallory", "trudy"):
        nb = course / "submitted" / student / A / f"{A}.ipynb"
        assert not nb.exists() or b"BEGIN HIDDEN TESTS" not in nb.read_bytes(), \
            f"{student}: the source notebook was imported as a submission"


def test_collect_symlink_to_secret_file(collect_course, tmp_path):
    course = collect_course
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    secret.chmod(0o600)
    downloads = tmp_path / "dl"
    downloads.mkdir()
    (downloads / "eve.ipynb").symlink_to(secret)
    proc = _collect(course, downloads)
    assert proc is not None and proc.returncode == 0, proc and proc.stderr
    copies = [p for p in (course / "submitted").rglob("*") if p.is_file() and b"secret-hash" in p.read_bytes()]
    assert not copies, f"the secret file was copied into the course: {copies}"


def test_collect_fifo_does_not_hang(collect_course, tmp_path):
    downloads = tmp_path / "dl"
    (downloads / "fred").mkdir(parents=True)
    os.mkfifo(downloads / "fred" / f"{A}.ipynb")
    (downloads / "gina.ipynb").write_bytes(bs.nb_bytes(bs.blank_of(bs.read_nb(bs.release_path(collect_course, A)))))
    proc = _collect(collect_course, downloads, timeout=60)
    assert proc is not None, "collect hung on a FIFO"
    assert proc.returncode == 0, proc.stderr
    assert (collect_course / "submitted" / "gina" / A / f"{A}.ipynb").exists()


def test_collect_colliding_ids_across_runs(course_copy, tmp_path):
    course = course_copy("collect-ids-twice")
    release = bs.read_nb(bs.release_path(course, A))
    first, second = tmp_path / "run1", tmp_path / "run2"
    first.mkdir()
    second.mkdir()
    one = bs.nb_bytes(bs.blank_of(release))
    other = bs.nb_bytes(bs.set_code(bs.blank_of(release), "ticker-answer", "TICKER = 'AMD'"))
    (first / "Anna Müller.ipynb").write_bytes(one)
    assert _collect(course, first).returncode == 0
    (second / "Anna_Muller.ipynb").write_bytes(other)  # another person, same sanitised id
    proc = _collect(course, second)
    assert proc.returncode == 0
    kept = (course / "submitted" / "Anna_Muller" / A / f"{A}.ipynb").read_bytes() == one
    said = (proc.stdout + proc.stderr).replace(str(course), "COURSE")
    assert kept or re.search(r"collision|conflict|same id", said, re.I), said
