"""Shared fixtures: the bundled data, loaded once per test session.

factordata caches its files and returns copies, so tests may modify what
these fixtures give them without affecting other tests.
"""

import pytest

import factordata


@pytest.fixture(scope="session")
def tickers():
    """The 19 stock tickers of the bundled universe."""
    return factordata.tickers()


@pytest.fixture
def daily():
    """Daily excess returns: 19 stocks and MKT (a fresh copy per test)."""
    return factordata.excess_returns("daily")


@pytest.fixture
def monthly():
    """Monthly excess returns: 19 stocks, MKT and Mkt-RF (a fresh copy per test)."""
    return factordata.excess_returns("monthly")


# ---- grading fixtures (tests/test_grading.py, tests/test_grading_robustness.py) ----
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A temporary copy of the course directory with the student versions released.

    Only ``nbgrader_config.py`` and ``source/`` are copied (what git holds);
    ``autograder release --course TMP`` then builds ``release/`` and the
    gradebook. Tests must not modify it: take a :func:`course_copy`.
    """
    from bad_submissions import run_autograder

    course = tmp_path_factory.mktemp("course") / "course"
    course.mkdir()
    shutil.copy2(EXERCISES / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(EXERCISES / "source", course / "source")
    proc = run_autograder("release", "--course", course)
    assert proc.returncode == 0, f"autograder release failed:\n{proc.stdout}\n{proc.stderr}"
    return course


@pytest.fixture(scope="session")
def course_copy(released_course, tmp_path_factory):
    """Factory: a fresh copy of the released course (own gradebook, nothing submitted)."""

    def make(name="course"):
        dest = tmp_path_factory.mktemp(name) / "course"
        shutil.copytree(released_course, dest)
        return dest

    return make
