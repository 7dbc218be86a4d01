"""Due dates, per-student extensions and late penalties, the nbgrader way.

Due dates are nbgrader's: the gradebook's ``Assignment.duedate`` (set with
``nbgrader db assignment add hedging --duedate="2026-02-20 17:00 UTC"``),
or, taking precedence and copied into the gradebook, the course config::

    c.Autograder.duedates = {"hedging": "2026-02-20 17:00"}
    c.Autograder.extensions = {"12345": {"hedging": "2026-02-23 17:00"},  # a new personal due date
                               "67890": {"hedging": 48}}                # or hours (also {"days": 2})
    c.Autograder.timezone = "Europe/Zurich"   # for times written without a zone (default UTC)

Extensions are stored as nbgrader's ``SubmittedAssignment.extension``.
Penalties come from nbgrader's late-submission plugin, configured as for
``nbgrader autograde``: ``c.AssignLatePenalties.plugin_class`` (default
nbgrader's ``LateSubmissionPlugin``, with ``c.LateSubmissionPlugin.
penalty_method = "none"`` or ``"zero"``) or this module's
:class:`PerDayPenalty` (``c.AssignLatePenalties.plugin_class =
"autograder.deadlines.PerDayPenalty"``, ``c.PerDayPenalty.percent_per_day =
10``). As in nbgrader, the penalty is clamped to ``[0, score]`` and stored in
``SubmittedNotebook.late_submission_penalty``.

Submission times are nbgrader's ``submitted/<student>/<assignment>/
timestamp.txt``. Where the platform marked a file late or on time (Canvas)
and the file's time disagrees with the assignment's due date, the
platform's mark wins (see :func:`reconcile`): a download's file times are
not submission times. The mark is compared with the assignment's due date;
a student's extension then applies as usual.

Functions the grading batch calls (main process, the only gradebook writer):
:func:`apply_late_penalty` after a submission's scores are stored. Workers
(no gradebook) can use :func:`lateness` with :func:`load_deadlines`' result
(picklable), loaded once by the main process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import warnings

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from .course import UserError

LMS_FILE = ".lms.json"  # next to timestamp.txt: what the platform said (written by collect)
_LOG = logging.getLogger("autograder.deadlines")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False


class PerDayPenalty(LateSubmissionPlugin):
    """A late-submission plugin: ``percent_per_day`` of the score for every
    started day late (after ``grace_minutes``), at most ``max_percent``."""

    percent_per_day = Float(10.0, help="Percent of the score taken per started day late").tag(config=True)
    max_percent = Float(100.0, help="Largest penalty, in percent of the score").tag(config=True)
    grace_minutes = Float(0.0, help="Minutes late that cost nothing").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        late = total_seconds_late - 60 * self.grace_minutes
        if late <= 0:
            return None
        days = math.ceil(late / 86400)
        return score * min(self.max_percent, self.percent_per_day * days) / 100.0


# ---- times --------------------------------------------------------------------------
def course_timezone(config):
    from dateutil import tz

    name = str(config.get("Autograder", {}).get("timezone", "UTC"))
    zone = tz.gettz(name)
    if zone is None:
        raise UserError(f"unknown time zone in c.Autograder.timezone: {name!r}")
    return zone


def to_utc(value, zone=dt.timezone.utc) -> dt.datetime | None:
    """A naive UTC datetime (nbgrader's convention) from a string or datetime;
    times without a zone are in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        from dateutil import parser

        try:
            value = parser.parse(value)
        except (ValueError, OverflowError):
            raise UserError(f"not a date and time: {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise UserError(f"not a date and time: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def format_timestamp(when: dt.datetime) -> str:
    """nbgrader's timestamp.txt format (``Exchange.timestamp_format``), in UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


# ---- deadlines ----------------------------------------------------------------------
def _extension(value, due, zone) -> dt.timedelta | None:
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise UserError(f"extension must be a date, hours or a dict like {{'days': 2}}, got {value!r}")
    if isinstance(value, (int, float)):
        return dt.timedelta(hours=float(value))
    if isinstance(value, dict):
        try:
            return dt.timedelta(**{k: float(v) for k, v in value.items()})
        except TypeError:
            raise UserError(f"extension keys are weeks, days, hours, minutes; got {value!r}") from None
    personal = to_utc(value, zone)
    if due is None:
        raise UserError(f"an extension to {value!r} needs a due date for the assignment")
    return personal - due


@dataclasses.dataclass(frozen=True)
class Deadlines:
    """One assignment's due date, extensions and penalty settings (picklable)."""

    assignment: str
    duedate: dt.datetime | None  # naive UTC
    extensions: dict  # student id -> timedelta
    config: dict  # the course config, for the penalty plugin

    def extension(self, student: str) -> dt.timedelta | None:
        return self.extensions.get(student)

    def due_for(self, student: str) -> dt.datetime | None:
        if self.duedate is None:
            return None
        return self.duedate + (self.extension(student) or dt.timedelta(0))

    def seconds_late(self, student: str, timestamp) -> float:
        due = self.due_for(student)
        if due is None or timestamp is None:
            return 0.0
        return max(0.0, (to_utc(timestamp) - due).total_seconds())

    def penalty(self, student: str, timestamp, score: float) -> float:
        """The late penalty in points (0 when on time or without a due date)."""
        late = self.seconds_late(student, timestamp)
        if late <= 0:
            return 0.0
        value = _plugin(self.config).plugin_inst.late_submission_penalty(student, score, late)
        if value is None:
            return 0.0
        return float(min(max(value, 0.0), score))  # nbgrader's AssignLatePenalties clamps the same way


def _plugin(config):
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config

    pp = AssignLatePenalties(config=Config(config), log=_LOG)
    pp.init_plugin()
    return pp


def _gradebook_duedate(gb, assignment):
    from nbgrader.api import MissingEntry

    if gb is None:
        return None
    try:
        return gb.find_assignment(assignment).duedate
    except MissingEntry:
        return None


def load_deadlines(course, assignment: str, gb=None) -> Deadlines:
    """The due date (config, else the gradebook ``gb`` if given) and extensions."""
    ag = course.config.get("Autograder", {})
    zone = course_timezone(course.config)
    configured = dict(ag.get("duedates", {}) or {})
    due = to_utc(configured[assignment], zone) if configured.get(assignment) else _gradebook_duedate(gb, assignment)
    extensions = {}
    for student, per in dict(ag.get("extensions", {}) or {}).items():
        if not isinstance(per, dict):
            raise UserError(f"c.Autograder.extensions[{student!r}] must be a dict of assignment -> extension")
        ext = _extension(per.get(assignment), due, zone)
        if ext is not None:
            extensions[str(student)] = ext
    return Deadlines(assignment, due, extensions, dict(course.config))


def reconcile(timestamp, late_mark, due) -> tuple[dt.datetime | None, str | None]:
    """Make a file time agree with the platform's late mark; ``(time, note)``.

    ``late_mark`` True (the platform says late) with a time not after
    ``due``: one second after the due date. False (on time) with a time
    after ``due``: the due date. Otherwise the time as it is, no note.
    """
    timestamp = to_utc(timestamp)
    if late_mark is None or due is None or timestamp is None:
        return timestamp, None
    if late_mark and timestamp <= due:
        return due + dt.timedelta(seconds=1), (
            f"marked late by the platform but the file time {timestamp:%Y-%m-%d %H:%M} UTC is not after the "
            "due date: counted as 1 second late")
    if not late_mark and timestamp > due:
        return due, (f"marked on time by the platform; the file time {timestamp:%Y-%m-%d %H:%M} UTC is after "
                     "the due date: counted as on time")
    return timestamp, None


def read_lms_record(folder) -> dict:
    """collect's record of what the platform said about a submission (or {})."""
    from pathlib import Path

    try:
        data = json.loads((Path(folder) / LMS_FILE).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def submission_time(course, assignment: str, student: str, deadlines: Deadlines | None = None):
    """The submission's time (naive UTC) from ``timestamp.txt``; None if unknown.

    When ``timestamp.txt`` is as collect wrote it, the file time collect
    recorded is reconciled again with the platform's late mark and the
    (possibly new) due date in ``deadlines``; a ``timestamp.txt`` edited by
    hand is taken as it is.
    """
    from nbgrader.utils import parse_utc

    folder = course.submitted_dir / student / assignment
    record = read_lms_record(folder)
    try:
        raw = (folder / "timestamp.txt").read_text("utf-8").strip()
    except OSError:
        raw = ""
    late = None
    if record.get("file_time") and raw == (record.get("timestamp_txt") or ""):
        # as collect left it (not edited by hand): reconcile again, the due date may be new
        raw, late = record["file_time"], record.get("late")
    if not raw:
        return None
    try:
        when = parse_utc(raw)
    except (ValueError, OverflowError):
        return None
    if deadlines is not None:
        when, _ = reconcile(when, late, deadlines.duedate)
    return when


def late_penalty(course, student: str, assignment: str, timestamp, score: float, gb=None) -> float:
    """Points taken for lateness: ``score`` submitted at ``timestamp`` (a
    datetime or nbgrader timestamp string; None means on time) by
    ``student``, under the course's due dates, extensions and penalty plugin
    (the due date from the gradebook ``gb`` when the config has none)."""
    return load_deadlines(course, assignment, gb).penalty(student, timestamp, score)


def sync_due_date(gb, course, assignment: str) -> None:
    """Copy ``c.Autograder.duedates[assignment]`` into the gradebook (if set
    and the gradebook knows the assignment), so formgrader shows it."""
    from nbgrader.api import MissingEntry

    configured = (course.config.get("Autograder", {}).get("duedates", {}) or {}).get(assignment)
    if not configured:
        return
    try:
        record = gb.find_assignment(assignment)
    except MissingEntry:
        return
    due = to_utc(configured, course_timezone(course.config))
    if record.duedate != due:
        record.duedate = due
        gb.db.commit()


def apply_late_penalty(gb, course, assignment: str, student: str) -> dict:
    """Store the submission time, extension and late penalty in the gradebook.

    What stock ``nbgrader autograde`` does (``Autograde.init_assignment``
    stores ``timestamp.txt`` in the submission, ``AssignLatePenalties`` asks
    the plugin for each notebook's penalty); call it after the submission's
    scores are stored. Returns ``{"submitted", "due", "seconds_late",
    "late_penalty"}`` (times as ``"YYYY-MM-DD HH:MM:SS UTC"`` or None, the
    penalty in points): JSON-friendly, for grades.csv and the feedback.
    """
    sync_due_date(gb, course, assignment)
    deadlines = load_deadlines(course, assignment, gb)
    when = submission_time(course, assignment, student, deadlines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy autoflush warnings inside nbgrader
        if when is not None:
            submission = gb.update_or_create_submission(assignment, student, timestamp=when)
        else:
            submission = gb.update_or_create_submission(assignment, student)
        submission.extension = deadlines.extension(student)
        gb.db.commit()
        pp = _plugin(deadlines.config)
        late = submission.total_seconds_late if deadlines.duedate is not None else 0
        total = 0.0
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = None
            if late > 0:
                value = pp.plugin_inst.late_submission_penalty(student, notebook.score, late)
                if value is not None:
                    notebook.late_submission_penalty = pp._check_late_penalty(notebook, value)
                    total += notebook.late_submission_penalty
        gb.db.commit()
    return _info(when, deadlines.due_for(student), late, total)


def _info(when, due, seconds_late, penalty) -> dict:
    shown = (lambda d: None if d is None else f"{d:%Y-%m-%d %H:%M:%S} UTC")
    return {"submitted": shown(when), "due": shown(due), "seconds_late": float(seconds_late),
            "late_penalty": float(penalty)}


def lateness(course, deadlines: Deadlines, student: str, score: float) -> dict:
    """Like :func:`apply_late_penalty`, without the gradebook (a worker can
    call it): the penalty on ``score`` for ``submitted/<student>``'s time,
    with :func:`load_deadlines`' result loaded once by the main process."""
    when = submission_time(course, deadlines.assignment, student, deadlines)
    return _info(when, deadlines.due_for(student), deadlines.seconds_late(student, when),
                 deadlines.penalty(student, when, score))
