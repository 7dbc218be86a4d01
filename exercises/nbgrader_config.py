# nbgrader configuration of the course "Introduction to Factor Models".
#
# This directory is a standard nbgrader course directory: the stock commands
# work here unchanged (run them from this folder):
#     nbgrader generate_assignment alpha-beta   # -> release/alpha-beta/
#     nbgrader autograde alpha-beta             # submitted/ -> autograded/
#     nbgrader generate_feedback alpha-beta     # -> feedback/
#     jupyter server --ip=127.0.0.1             # then open /formgrader to grade written answers
# The `autograder` command (see the README) does the same things in parallel,
# sandboxed and with tamper checks, and reads the limits below.

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "factor-models"
# (no CourseDirectory.root: nbgrader takes the folder it runs in, and warns
# "root '.' is not absolute" when it is given as ".")
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# What students see where a solution was removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# An honest student must not lose points because a test cell went missing
# from their notebook (deleted, or its metadata stripped by another editor):
# nbgrader adds the source's test cells back.
c.OverwriteCells.add_missing_cells = True

# Execution limits. The autograder reads these too; flags override them.
c.Execute.timeout = 30           # seconds per cell
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 1000   # output lines kept per cell
c.LimitOutput.max_traceback = 100

# Limits only the `autograder` command applies (nbgrader ignores them):
c.Autograder.memory_mb = 2048    # address-space cap per submission's kernel
c.Autograder.max_output_mb = 2   # output kept per cell while it runs
c.Autograder.max_restarts = 3    # kernel restarts per submission (timeouts, crashes)
# c.Autograder.jobs = 2          # parallel kernels (default: number of cores)

# `autograder collect`: largest notebook accepted from a download (also the
# cap on a zip entry's uncompressed size).
c.Autograder.max_submission_mb = 50

# Deadlines (`autograder collect`, `grade` and `export`; nbgrader's own
# alternative: `nbgrader db assignment add hedging --duedate="..."`). Times
# without a zone are in c.Autograder.timezone (default UTC).
# c.Autograder.timezone = "Europe/Zurich"
# c.Autograder.duedates = {"alpha-beta": "2026-02-13 17:00", "hedging": "2026-02-20 17:00"}
# Per-student extensions, by student id: a new due date, hours, or a timedelta dict.
# c.Autograder.extensions = {"12345": {"hedging": "2026-02-23 17:00"}, "67890": {"hedging": 48}}
# Late penalty: nbgrader's plugin ("none": no penalty, "zero": the whole score) ...
# c.LateSubmissionPlugin.penalty_method = "zero"
# ... or a share of the score per started day late:
# c.AssignLatePenalties.plugin_class = "autograder.deadlines.PerDayPenalty"
# c.PerDayPenalty.percent_per_day = 10
# `autograder export --format canvas`: the gradebook column of an assignment,
# when its Canvas name does not contain the assignment's name.
# c.Autograder.lms_columns = {"hedging": "Problem set 2 (4567)"}

# Per-student variants (off here: self-study and the book use the defaults).
# Each listed assignment gives every student parameters of their own (a sample
# window, a budget, a risk-share limit), derived from the class seed and the
# student id; `autograder release` writes the seed into the student version,
# `autograder grade` grades each submission on its folder's id, so a
# classmate's numbers fail. Assignments with parameters: alpha-beta, hedging,
# risk-budgets, variance-shares. Keep the seed for the whole term.
# c.Autograder.variants = ["alpha-beta", "hedging", "risk-budgets", "variance-shares"]
# c.Autograder.variant_seed = "factor-models-2026-spring"

# Feedback keeps the hidden tests secret (nbgrader shows them by default,
# nbgrader issues #917 and #1363): hidden-test regions are removed and
# test-cell errors are reduced to their message before the HTML is made,
# also when the stock `nbgrader generate_feedback` is used.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.HideTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
