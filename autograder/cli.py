"""The ``autograder`` command (also ``python -m autograder``).

::

    autograder release [ASSIGNMENT ...]            student versions (nbgrader)
    autograder check NOTEBOOK [--json]             grade one notebook, alone
    autograder collect ASSIGNMENT PATH [--layout L] [--roster FILE]
                                                   import downloaded submissions (folder or .zip)
    autograder grade ASSIGNMENT [--jobs N] [--timeout S] [--memory-mb M] [--force] [--no-sandbox]
    autograder feedback ASSIGNMENT                 feedback and reports with the manual grades
    autograder export [ASSIGNMENT ...] --format canvas|moodle|csv --output FILE [--roster FILE]
                                                   grade-upload file for the learning platform

Every command takes ``--course DIR`` (default: the repository's
``exercises/``). Errors in what the user asked for (unknown assignment,
missing course directory, not a notebook) print one line and exit with
status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys

from .course import UserError


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Release, check, collect and grade the course's nbgrader assignments.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--course", metavar="DIR", default=None,
                       help="course directory (default: the repository's exercises/)")
        return p

    p = add("release", "generate the student versions with nbgrader (all assignments by default)")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")

    p = add("check", "grade one notebook against the full tests (no gradebook needed)")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--timeout", type=_positive_int, metavar="S", help="seconds per cell")
    p.add_argument("--memory-mb", type=_positive_int, metavar="M", help="memory cap of the kernel")

    p = add("collect", "import downloaded submissions (a folder or a .zip from Canvas, Moodle, ...) "
                       "into submitted/<student>/<assignment>/")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("directory", metavar="PATH", help="the download: a folder or a .zip file")
    p.add_argument("--layout", choices=("auto", "canvas", "moodle", "folder"), default="auto",
                   help="how the download is organised (default: detected)")
    p.add_argument("--roster", metavar="FILE",
                   help="Canvas gradebook export or Moodle grading worksheet, for students' names")

    p = add("feedback", "feedback and reports again, with the manual grades given in formgrader")
    p.add_argument("assignment", metavar="ASSIGNMENT")

    p = add("grade", "autograde every submission of an assignment, in parallel")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--jobs", "-j", type=_positive_int, metavar="N", help="parallel kernels (default: cores)")
    p.add_argument("--timeout", type=_positive_int, metavar="S", help="seconds per cell")
    p.add_argument("--memory-mb", type=_positive_int, metavar="M", help="memory cap per kernel")
    p.add_argument("--force", action="store_true", help="regrade submissions graded before")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run submissions without the sandbox: trusts the students (for machines "
                        "where bubblewrap cannot run)")

    p = add("export", "write a grade-upload file (Canvas, Moodle or plain CSV) from the gradebook")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="assignments to export (default: all, one course-wide sheet)")
    p.add_argument("--format", choices=("canvas", "moodle", "csv"), default="csv", dest="fmt",
                   help="canvas: gradebook import CSV; moodle: grading worksheet; csv: plain (default)")
    p.add_argument("--roster", metavar="FILE",
                   help="the platform's own export: Canvas gradebook CSV or Moodle grading worksheet")
    p.add_argument("--output", "-o", metavar="FILE", required=True, help="the file to write")
    return parser


def run(args) -> int:
    from .course import Course

    if args.command == "release":
        from .release import release

        release(Course(args.course), args.assignments)
        return 0
    if args.command == "check":
        from .check import check, format_table, to_json

        from .check import progress_line, record_progress

        result = check(args.notebook, args.course, timeout=args.timeout, memory_mb=args.memory_mb)
        record_progress(result)
        print(to_json(result) if args.json else format_table(result) + "\n" + progress_line(args.course))
        return 0
    if args.command == "collect":
        from .collect import collect

        course = Course(args.course)
        collect(course, course.check_assignment(args.assignment), args.directory, layout=args.layout,
                roster=args.roster)
        return 0
    if args.command == "export":
        from .export import export

        course = Course(args.course)
        export(course, [course.check_assignment(a) for a in args.assignments], args.fmt, args.output,
               roster=args.roster)
        return 0
    if args.command == "feedback":
        from .batch import feedback

        course = Course(args.course)
        feedback(course, course.check_assignment(args.assignment))
        return 0
    if args.command == "grade":
        from .batch import grade

        course = Course(args.course)
        grade(course, course.check_assignment(args.assignment), jobs=args.jobs, timeout=args.timeout,
              memory_mb=args.memory_mb, force=args.force, progress=not args.no_progress,
              sandbox=not args.no_sandbox)
        return 0
    raise UserError(f"unknown command {args.command!r}")


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` (about 3 s of CPU).

    nbformat validates notebooks with jsonschema, whose format checker
    imports the optional ``rfc3987_syntax`` package when it is installed;
    that package compiles a grammar at import. The notebook schema uses no
    IRI formats, so this process does without it (``None`` in sys.modules
    makes the optional import fail, which jsonschema expects).
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv=None) -> int:
    _skip_slow_optional_imports()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UserError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
