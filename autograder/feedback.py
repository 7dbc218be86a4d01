"""Feedback HTML that teaches and keeps the hidden tests secret.

nbgrader's feedback shows the autograded notebook as it is, hidden tests
included (nbgrader issues #917 and #1363), and IPython tracebacks quote the
failing test's source. :class:`HideTests` fixes both; it is a regular
nbgrader preprocessor, listed in ``exercises/nbgrader_config.py`` under
``GenerateFeedback.preprocessors``, so the stock ``nbgrader
generate_feedback`` is safe too. :func:`render_feedback` renders with
nbgrader's own feedback template (the same exporter settings as
``GenerateFeedback``), scores taken from the autograder's result instead of
the gradebook, and a summary cell on top with each question's message and
the notebook's flags.
"""

from __future__ import annotations

import html
import os

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode


class HideTests(NbGraderPreprocessor):
    """Remove hidden-test regions and reduce test-cell errors to their message.

    For every locked cell: the ``### BEGIN HIDDEN TESTS`` ...
    ``### END HIDDEN TESTS`` region is removed from the source (as nbgrader's
    ``ClearHiddenTests`` does), output lines that repeat hidden source are
    dropped, and error tracebacks become ``ename: evalue``.
    """

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    # nbgrader's GenerateFeedback hands every preprocessor the exporter's
    # display_data_priority; accepted (and unused) so that it does not warn.
    display_data_priority = List(Unicode()).tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        test_cell = (utils.is_locked(cell) or utils.is_grade(cell)) and not utils.is_solution(cell)
        if not test_cell and self.begin_test_delimeter not in cell.source:
            return cell, resources
        kept, hidden, inside = [], set(), False
        for line in cell.source.split("\n"):
            if self.begin_test_delimeter in line:
                inside = True
            elif self.end_test_delimeter in line:
                inside = False
            elif inside:
                if line.strip():
                    hidden.add(line.strip())
            else:
                kept.append(line)
        cell.source = "\n".join(kept)
        # ClearHiddenTests leaves the checksum stale; keep it consistent.
        if "nbgrader" in cell.metadata and cell.metadata.nbgrader.get("grade_id"):
            cell.metadata.nbgrader["checksum"] = utils.compute_checksum(cell)

        def scrub(text):
            return "\n".join(ln for ln in str(text).split("\n") if ln.strip() not in hidden)

        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["evalue"] = scrub(out.get("evalue", ""))
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
            elif out.get("output_type") == "stream":
                out["text"] = scrub(out.get("text", ""))
            elif "data" in out:
                for mime, value in list(out["data"].items()):
                    if isinstance(value, str) and mime.startswith("text/"):
                        out["data"][mime] = scrub(value)
        return cell, resources


#: What a student's markdown may keep once rendered (everything else is
#: escaped and shown as text): no scripts, styles, frames, forms, images,
#: event handlers, and links only to http(s) and mailto.
SAFE_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
             "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
             "thead", "tr", "ul", "span", "div"]
SAFE_ATTRIBUTES = {"a": ["href", "title"], "th": ["align"], "td": ["align"]}
SAFE_PROTOCOLS = ["http", "https", "mailto"]


def safe_markdown(source: str) -> str:
    """A student's markdown rendered to HTML with nothing active left in it.

    The markdown is rendered with nbconvert's own renderer (math kept for
    MathJax), then cleaned with bleach (nbconvert's dependency) against a
    short allow-list: raw ``<script>``, ``<iframe>``, ``onerror=``,
    ``javascript:`` links (also entity-encoded ones, which only exist after
    rendering) are all gone. The result is HTML, which nbconvert passes
    through unchanged when the cell is rendered again.
    """
    import bleach
    from nbconvert.filters.markdown import markdown2html

    rendered = markdown2html(source)
    cleaned = bleach.clean(rendered, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES,
                           protocols=SAFE_PROTOCOLS, strip=False, strip_comments=True)
    return f"<div class=\"student-answer\">\n{cleaned}\n</div>"


def neutralise_student_cells(nb) -> None:
    """Make every cell a student wrote safe to render (in place).

    Markdown and raw cells that are not locked (written answers, the
    student's own notes) become sanitized HTML (:func:`safe_markdown`);
    code outputs were already reduced to text and images by
    :func:`autograder.executor.clean_outputs`. Locked cells come from the
    course's source notebook and are left alone.
    """
    for cell in nb.cells:
        if utils.is_locked(cell) and cell.cell_type != "raw":
            continue
        if cell.cell_type in ("markdown", "raw") and cell.source.strip():
            cell.source = safe_markdown(cell.source) if cell.cell_type == "markdown" else cell.source
            if cell.cell_type == "raw":
                import html as _html

                cell.cell_type = "markdown"
                cell.source = f"<pre>{_html.escape(cell.source)}</pre>"
                cell.pop("outputs", None)


_exporter = None


def _html_exporter():
    """nbconvert's HTMLExporter configured as nbgrader's GenerateFeedback does."""
    global _exporter
    if _exporter is None:
        import nbgrader
        from nbconvert.exporters import HTMLExporter
        from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
        from traitlets.config import Config

        base = os.path.dirname(nbgrader.__file__)
        c = Config()
        c.HTMLExporter.template_name = "feedback"
        c.HTMLExporter.extra_template_basedirs = [
            os.path.join(base, "server_extensions", "formgrader", "templates")]
        c.HTMLExporter.extra_template_paths = [os.path.join(
            base, "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css")]
        c.Exporter.default_preprocessors = []
        _exporter = HTMLExporter(config=c)
        _exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
    return _exporter


def late_line(late) -> str | None:
    """One sentence on the submission time and late penalty (or None)."""
    if not late or not late.get("submitted"):
        return None
    text = f"Submitted {late['submitted']}"
    if late.get("due"):
        hours = late.get("seconds_late", 0) / 3600
        text += (f", {hours:.1f} hours after the due date ({late['due']})" if hours > 0
                 else f", before the due date ({late['due']})")
    penalty = late.get("late_penalty") or 0
    return text + (f": late penalty **-{penalty:g}** points." if penalty else ".")


def summary_markdown(result, late=None) -> str:
    """A markdown summary of the result: questions, messages, flags, lateness."""
    lines = ["## Autograder summary", "",
             f"Autograded score: **{result.score:g} / {result.max_score:g}**"
             + (f" (plus {result.manual_pending:g} points graded by hand)" if result.manual_pending else ""),
             "", "| question | points | status | message |", "|---|---|---|---|"]
    for q in result.questions:
        points = "pending" if q["points"] is None else f"{q['points']:g} / {q['max_points']:g}"
        message = html.escape(q["message"] or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {q['id']} | {points} | {q['status']} | {message} |")
    if late_line(late):
        lines[3:3] = ["", late_line(late)]
    if result.flags:
        lines += ["", "**Notes and flags:**", ""] + [f"- {html.escape(f)}" for f in result.flags]
    return "\n".join(lines)


def render_feedback(nb: NotebookNode, result, spec, late=None) -> str:
    """HTML feedback for one autograded notebook (a deep copy is modified).

    ``late``: :func:`autograder.deadlines.lateness` (or ``apply_late_penalty``)
    for this submission; a late penalty shows in the summary and in
    nbgrader's score header.
    """
    import copy

    from nbformat.v4 import new_markdown_cell

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if "autograder_mark_scheme" not in c.get("metadata", {})]
    scores = {q["id"]: q for q in result.questions}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if (utils.is_grade(cell) or utils.is_task(cell)) and meta.get("grade_id") in scores:
            q = scores[meta["grade_id"]]
            meta["score"] = q["points"]
            meta["points"] = q["max_points"]
        if utils.is_solution(cell) or utils.is_task(cell):
            meta.setdefault("comment", None)
    nb, _ = HideTests()(nb, {})
    if spec.hidden_lines:  # a student cell may hold a copy of a test (duplicated cell)
        for cell in nb.cells:
            cell.source = "\n".join(ln for ln in cell.source.split("\n") if ln.strip() not in spec.hidden_lines)
    # The summary quotes the student's own input (messages, notes): rendered
    # and cleaned like a written answer, so no link or image it holds is live.
    nb.cells.insert(0, new_markdown_cell(safe_markdown(summary_markdown(result, late))))
    penalty = float((late or {}).get("late_penalty") or 0)
    resources = {"nbgrader": {"notebook": spec.name, "assignment": spec.name, "student": result.student,
                              "score": result.score, "max_score": spec.max_score, "late_penalty": penalty}}
    body, _ = _html_exporter().from_notebook_node(nb, resources=resources)
    return offline_page(_mark_pending(body, result))


def _mark_pending(body: str, result) -> str:
    """nbgrader's template prints "Score: 0.0 / 3.0" for an answer still to be
    graded by hand; say "pending" instead (there and in the page header)."""
    import re

    pending = [q for q in result.questions if q["points"] is None]
    for q in pending:
        gid = html.escape(q["id"], quote=True)
        top = f"{float(q['max_points']):.1f}"
        body = body.replace(f'<a href="#{gid}">Written response</a> (Score: 0.0 / {top})',
                            f'<a href="#{gid}">Written response</a> (pending: graded by hand, {top} points)')
        anchor = body.find(f'name="{gid}"')
        if anchor >= 0:
            at = body.find(f"Score: 0.0 / {top}", anchor)
            if at >= 0:
                body = body[:at] + f"Score: pending (graded by hand) / {top}" + body[at + len(f"Score: 0.0 / {top}"):]
    if result.manual_pending:
        body = re.sub(r"(\(Score: [0-9.]+ / [0-9.]+)\)</h4>",
                      lambda m: f"{m.group(1)}; {result.manual_pending:g} points still to be graded by hand)</h4>",
                      body, count=1)
    return body


#: nbgrader's feedback template loads MathJax 2 from a CDN; feedback is read
#: offline, so the page loads the MathJax 3 copy that ``grade`` puts next to
#: the feedback folders (:func:`install_mathjax`) instead.
_CDN_MATHJAX = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js'
                '?config=TeX-AMS_CHTML-full,Safe"> </script>')
MATHJAX_REL = "../../mathjax/tex-svg.js"
_LOCAL_MATHJAX = ("<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
                  "displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true}, "
                  "svg: {fontCache: 'global'}};</script>\n"
                  f'<script defer src="{MATHJAX_REL}"></script>')
#: Tables of the summary: padded, wrapping cells (nbconvert's classic CSS
#: sets neither, so "pending" and "manual" ran together).
_CSS = """<style>
.rendered_html table td, .rendered_html table th { padding: 0.3em 0.7em; white-space: normal;
  overflow-wrap: anywhere; vertical-align: top; }
.rendered_html table { table-layout: auto; max-width: 100%; }
div.output_text pre, div.output_area pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.student-answer { border-left: 3px solid #bbb; padding-left: 0.8em; }
</style>"""


def offline_page(body: str) -> str:
    """The feedback page with local MathJax and readable tables."""
    body = body.replace(_CDN_MATHJAX, _LOCAL_MATHJAX)
    return body.replace("</head>", _CSS + "\n</head>", 1)


def install_mathjax(feedback_dir) -> bool:
    """Copy MathJax 3 (SVG output, fonts included) to ``feedback/mathjax/``.

    From the npm package that ``make book`` installs (``node_modules/mathjax``).
    Returns False when it is not there (math then shows as TeX source).
    """
    import shutil
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "node_modules" / "mathjax" / "es5" / "tex-svg.js"
    target = Path(feedback_dir) / "mathjax" / "tex-svg.js"
    if not source.is_file():
        return False
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return True
