"""Grading and self-check tooling for the course's nbgrader assignments.

The package adds to nbgrader rather than replacing it: student versions are
made by nbgrader's ``generate_assignment``, submissions are sanitized,
executed and scored by nbgrader's preprocessors (``OverwriteCells``,
``Execute``, ``LimitOutput``, ``utils.determine_grade``), scores go into
nbgrader's gradebook and feedback is rendered with nbgrader's feedback
template. What it adds: a sandboxed, parallel, resumable batch (``grade``),
a self-study ``check`` that needs no instructor set-up, tamper detection
(:mod:`autograder.integrity`) and feedback that never shows hidden tests.

Modules
-------
cli        the ``autograder`` command (release, check, collect, grade, export)
course     course directory, assignments, configuration and limits
spec       the assignment's reference cells, read from the source notebook
sanitize   reading a submission and restoring locked cells (OverwriteCells)
sandbox    kernels in their own directory, user and resource limits
executor   nbgrader's Execute with timeouts, restarts and output caps
integrity  tamper detection (kernel side) and a static scan of student code
grading    one notebook end to end: sanitize, execute, score, flag
feedback   feedback HTML without hidden tests or tracebacks
batch      the parallel, resumable ``grade`` and the gradebook writer
report     grades.csv, summary.txt and summary.png
collect    importing downloaded submissions (folder or zip; Canvas, Moodle, plain)
lms        learning platforms' download layouts and rosters, read safely
deadlines  due dates, extensions and late penalties (nbgrader's plugins)
export     grade-upload files for Canvas, Moodle, or plain CSV
checks     the answer checks the hidden tests call (assignment authors)

Only light modules are imported here: the kernel imports
``autograder.integrity`` and ``autograder.checks`` at start-up.
"""

__version__ = "0.1.0"
