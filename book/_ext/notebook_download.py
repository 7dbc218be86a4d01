"""Offer every MyST Markdown chapter for download as a notebook that reads well.

sphinx-book-theme shows its ``.ipynb`` download button only for pages whose
``ipynb_source`` is set, and for text (MyST) notebooks it sets it only while
a launch button (Binder, Colab, ...) is configured -- which an offline book
must not have. This extension does that step itself: for each page written
from a MyST notebook (a ``.md`` source with a ``kernelspec``) it writes
``<pagename>.ipynb`` next to the page's source in ``_sources/`` and sets
``ipynb_source``, so the theme adds the button.

The notebook is the one myst-nb executed for this build
(``_build/jupyter_execute/<pagename>.ipynb``: the chapter's cells with their
outputs), with its Markdown cells turned from MyST into the plain Markdown
that JupyterLab shows (:func:`to_plain_markdown`):

- ``{glue:text}`name:.2f``` becomes the number as the page shows it (the
  value glued at build time, from ``<pagename>.glue.json``, formatted by
  myst-nb's own function);
- admonitions become blockquotes with a bold title; dropdowns ("Answer",
  solutions) become closed ``<details>`` blocks; an exercise's solution that
  spans cells has its code cells collapsed (JupyterLab's ``source_hidden``);
- ``{eq}`label``` becomes "equation (1.2)" and the equation carries
  ``\\tag{1.2}``; ``{ref}`` and ``{doc}`` become the title they point to;
  citations become "Author (year)"; ``(label)=`` targets are dropped;
- ``{numref}`` becomes "Fig. 1.2"; a figure's caption follows its cell;
- MyST substitutions (``{{ repo_url }}``, Jinja expressions as MyST allows)
  are filled in.

Code cells are left exactly as they are, so the notebook runs as-is; a first
Markdown cell says what it needs (the course's environment) and how to get it.
A page without an executed copy gets its source converted by jupytext and the
same Markdown treatment (its glued numbers then cannot be filled in: a
warning, which fails the book's ``-W`` build).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import nbformat
from docutils import nodes
from docutils.nodes import make_id
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# MyST -> plain Markdown, independent of Sphinx (tests call it directly)
# ---------------------------------------------------------------------------


@dataclass
class Context:
    """What the conversion of one page needs to know about the built book."""

    #: glue name -> text/plain of the glued value
    glue: dict[str, str] = field(default_factory=dict)
    #: equation label -> number as shown ("1.2")
    equations: dict[str, str] = field(default_factory=dict)
    #: reference label -> title of the section, figure or exercise
    labels: dict[str, str] = field(default_factory=dict)
    #: label of a numbered figure, table, ... -> (format like "Fig. %s", number "1.2")
    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: docname (relative to the page, or absolute with a leading "/") -> title
    doc_title: Callable[[str], str | None] = lambda name: None
    #: citation key -> (authors as cited, year)
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: MyST substitutions
    substitutions: dict[str, str] = field(default_factory=dict)
    #: problems found (unknown glue names, labels, keys)
    problems: list[str] = field(default_factory=list)


#: Markers left by the cell-spanning exercise directives, resolved per notebook.
SOLUTION_START = "\x00solution-start\x00"
SOLUTION_END = "\x00solution-end\x00"

ADMONITIONS = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
    "warning": "Warning", "caution": "Caution", "attention": "Attention",
    "danger": "Danger", "error": "Error", "seealso": "See also",
}

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:.-]+)\}[ \t]*(?P<arg>.*)$")
_CODE_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?!\{)")
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
_TARGET = re.compile(r"^[ \t]*\([\w:.-]+\)=[ \t]*$")
#: A role, or an inline code span (kept as written: ``{eq}`` in code is code).
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]*)`|(?P<code>(?P<ticks>`+).+?(?P=ticks))")
_SUBSTITUTION = re.compile(r"\{\{(?P<expr>.+?)\}\}")
_LABELLED_MATH = re.compile(r"\$\$(?P<body>.+?)\$\$[ \t]*\((?P<label>[^()\s]+)\)", re.DOTALL)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


def _closing(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _block_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (nesting counted)."""
    depth = 0
    for j in range(start + 1, len(lines)):
        opener = _DIRECTIVE.match(lines[j]) or _CODE_FENCE.match(lines[j])
        if opener and opener.group("fence") == fence and (
            _DIRECTIVE.match(lines[j]) or lines[j].strip() != fence
        ):
            depth += 1
        elif _closing(lines[j], fence):
            if depth == 0:
                return j
            depth -= 1
    return len(lines)


def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """Directive options (``:key: value`` lines or a ``---`` block) and the rest."""
    opts: dict[str, str] = {}
    if body and body[0].strip() == "---":
        end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), None)
        if end is not None:
            for line in body[1:end]:
                key, _, value = line.partition(":")
                opts[key.strip()] = value.strip()
            return opts, body[end + 1 :]
    k = 0
    while k < len(body) and (m := _OPTION.match(body[k])):
        opts[m.group("key")] = m.group("value").strip()
        k += 1
    return opts, body[k:]


def _quote(title: str, body: str) -> str:
    lines = [f"**{title}**", ""] + body.strip("\n").split("\n") if body.strip() else [f"**{title}**"]
    return "\n".join(("> " + line).rstrip() for line in lines)


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>"


def _directive(name: str, arg: str, opts: dict[str, str], body: str, ctx: Context) -> str:
    classes = opts.get("class", "").split()
    if name == "exercise-start":
        number = ctx.labels.get(opts.get("label", ""), "")
        return f"**{number or 'Exercise'}.**" + (f" *{_inline(arg, ctx)}*" if arg else "")
    if name == "exercise-end":
        return ""
    if name == "solution-start":
        return SOLUTION_START + _solution_title(arg, ctx)
    if name == "solution-end":
        return SOLUTION_END
    if name in ("bibliography",):
        return ""
    if name.startswith("glue"):
        return _glue_block(arg, ctx)
    if name == "solution":
        return _details(_solution_title(arg, ctx), body)
    if name == "exercise":
        number = ctx.labels.get(opts.get("label", ""), "")
        title = number or "Exercise"
        return _quote(f"{title}. {_inline(arg, ctx)}" if arg else title, body)
    if name == "admonition" or name in ADMONITIONS:
        title = _inline(arg, ctx) if name == "admonition" else (
            f"{ADMONITIONS[name]}: {_inline(arg, ctx)}" if arg else ADMONITIONS[name])
        if "dropdown" in classes or "dropdown" in opts:
            return _details(title or "Details", body)
        return _quote(title or "Note", body)
    if name in ("math",):
        label = opts.get("label")
        tag = f" \\tag{{{ctx.equations[label]}}}" if label in ctx.equations else ""
        return f"$$\n{body.strip()}{tag}\n$$"
    if name in ("figure", "image"):
        alt = opts.get("alt", "") or body.strip().split("\n")[0]
        return f"![{alt}]({arg})" + (f"\n\n*{body.strip()}*" if body.strip() else "")
    # Any other directive: its content, titled by its argument.
    return (f"**{_inline(arg, ctx)}**\n\n" if arg else "") + body


def _solution_title(label: str, ctx: Context) -> str:
    number = ctx.labels.get(label.strip(), "")
    return f"Solution to {number}" if number.startswith("Exercise ") else "Solution"


def _glue_block(arg: str, ctx: Context) -> str:
    key = arg.strip()
    if key not in ctx.glue:
        ctx.problems.append(f"unknown glue name {key!r}")
        return key
    return ctx.glue[key]


def _convert_lines(lines: list[str], ctx: Context) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        code = None if directive else _CODE_FENCE.match(line)
        if directive:
            end = _block_end(lines, i, directive.group("fence"))
            opts, body = _options(lines[i + 1 : end])
            name = directive.group("name")
            inner = "\n".join(_convert_lines(body, ctx))
            rendered = _directive(name, directive.group("arg").strip(), opts, inner, ctx)
            if rendered:  # a block of its own: blank lines around it
                out.extend(["", *rendered.split("\n"), ""])
            i = end + 1
        elif code:
            end = _block_end(lines, i, code.group("fence"))
            out.extend(lines[i : end + 1])  # code is shown as written
            i = end + 1
        elif _TARGET.match(line):
            i += 1
        else:
            out.append(_inline(line, ctx))
            i += 1
    return out


def _split_explicit(content: str) -> tuple[str | None, str]:
    m = _EXPLICIT.match(content)
    return (m.group("text"), m.group("target")) if m else (None, content)


def _cite(keys: str, style: str, ctx: Context) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        if key not in ctx.citations:
            ctx.problems.append(f"unknown citation {key!r}")
            parts.append(key)
            continue
        authors, year = ctx.citations[key]
        parts.append(f"{authors} ({year})" if style == "t" else f"{authors}, {year}")
    return "; ".join(parts) if style == "t" else "(" + "; ".join(parts) + ")"


def _role(name: str, content: str, ctx: Context) -> str:
    if name in ("glue", "glue:", "glue:text", "glue:any"):
        key, _, fmt = content.rpartition(":") if ":" in content else (content, "", "")
        if "::" in content:  # doc::key (from another page): not resolvable here
            ctx.problems.append(f"glue from another page {content!r}")
            return content
        if key not in ctx.glue:
            ctx.problems.append(f"unknown glue name {key!r}")
            return key
        from myst_nb.core.variables import format_plain_text

        return format_plain_text(ctx.glue[key], fmt)
    if name in ("eq", "math:numref"):
        text, label = _split_explicit(content)
        if label not in ctx.equations:
            ctx.problems.append(f"unknown equation {label!r}")
            return text or label
        return f"({ctx.equations[label]})"  # as the page shows it
    if name == "numref":
        text, label = _split_explicit(content)
        if label not in ctx.numbers:
            ctx.problems.append(f"unknown numbered reference {label!r}")
            return text or label
        fmt, number = ctx.numbers[label]
        return text.replace("%s", number).replace("{number}", number) if text else fmt % number
    if name == "ref":
        text, label = _split_explicit(content)
        if text:
            return text
        if label not in ctx.labels:
            ctx.problems.append(f"unknown reference {label!r}")
            return label
        return ctx.labels[label]
    if name == "doc":
        text, target = _split_explicit(content)
        return text or ctx.doc_title(target) or target
    if name in ("download", "any", "term", "abbr", "sub", "sup", "code", "file", "samp", "kbd", "guilabel"):
        text, target = _split_explicit(content)
        return text or target
    if name.startswith("cite"):
        style = name.partition(":")[2] or "p"
        return _cite(content, "t" if style.startswith("t") else "p", ctx)
    if name == "math":
        return f"${content}$"
    return content


def _substitute(expr: str, ctx: Context) -> str:
    """A MyST substitution: a Jinja expression over the substitutions, as MyST renders it."""
    import jinja2

    try:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        return env.from_string("{{" + expr + "}}").render(ctx.substitutions)
    except Exception as exc:  # noqa: BLE001 - any template error is reported
        ctx.problems.append(f"substitution {{{{{expr}}}}}: {exc}")
        return "{{" + expr + "}}"


def _inline(text: str, ctx: Context) -> str:
    text = _SUBSTITUTION.sub(lambda m: _substitute(m.group("expr"), ctx), text)
    return _ROLE.sub(
        lambda m: m.group("code") or _role(m.group("name"), m.group("content"), ctx), text)


def _tag_equations(text: str, ctx: Context) -> str:
    def tag(m: re.Match) -> str:
        label, body = m.group("label"), m.group("body")
        number = ctx.equations.get(label)
        if number is None:
            ctx.problems.append(f"unknown equation label {label!r}")
        if number is None or "\\tag" in body or "\\begin{align" in body:
            return f"$${body}$$"
        return f"$${body.rstrip()} \\tag{{{number}}}\n$$" if body.endswith("\n") else f"$${body} \\tag{{{number}}}$$"

    return _LABELLED_MATH.sub(tag, text)


def to_plain_markdown(text: str, ctx: Context) -> str:
    """One Markdown cell of MyST as plain Markdown (see the module docstring)."""
    text = _tag_equations(text, ctx)
    text = "\n".join(_convert_lines(text.split("\n"), ctx))
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip("\n")


def _caption(cell: nbformat.NotebookNode, ctx: Context) -> str:
    """The caption a code cell's figure has on the page ("**Fig. 1.2** ..."), if any."""
    figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
    caption = str(figure.get("caption") or "").strip()
    if not caption:
        return ""
    caption = " ".join(_inline(line, ctx) for line in caption.split("\n"))
    name = figure.get("name")
    if name in ctx.numbers:
        fmt, number = ctx.numbers[name]
        return f"**{fmt % number}** {caption}"
    return f"*{caption}*"


def _hide(cell: nbformat.NotebookNode) -> None:
    """Collapse a code cell in JupyterLab (and the classic notebook)."""
    cell.metadata.setdefault("jupyter", {}).update(source_hidden=True, outputs_hidden=True)
    cell.metadata["collapsed"] = True


def plain_notebook(nb: nbformat.NotebookNode, ctx: Context, preface: str) -> nbformat.NotebookNode:
    """The notebook with its Markdown cells in plain Markdown, code untouched.

    A solution that spans cells (``solution-start`` ... ``solution-end``) has
    its text in closed ``<details>`` blocks and its code cells collapsed.
    """
    nb = copy.deepcopy(nb)
    cells = [nbformat.v4.new_markdown_cell(preface)]
    solution = None  # the title of the solution being read, if any
    seen = False  # whether any part of that solution is out yet
    for cell in nb.cells:
        if cell.cell_type == "code" and solution is not None:
            if not seen:
                cells.append(nbformat.v4.new_markdown_cell(f"**{solution}** (collapsed: click to show)"))
                seen = True
            _hide(cell)
        if cell.cell_type != "markdown":
            cells.append(cell)
            caption = _caption(cell, ctx)
            if caption:
                cells.append(nbformat.v4.new_markdown_cell(caption))
            continue
        pieces: list[str] = []
        segments = re.split(f"({SOLUTION_START}[^\n]*|{SOLUTION_END})", to_plain_markdown(cell.source, ctx))
        for segment in segments:
            if segment.startswith(SOLUTION_START):
                solution, seen = segment[len(SOLUTION_START):].strip() or "Solution", False
            elif segment == SOLUTION_END:
                solution = None
            elif segment.strip() and solution is None:
                pieces.append(segment.strip("\n"))
            elif segment.strip():
                pieces.append(_details(solution + (" (continued)" if seen else ""), segment))
                seen = True
        if pieces:
            cell.source = "\n\n".join(pieces)
            cells.append(cell)
    nb.cells = cells
    for key in ("source_map", "jupytext"):
        nb.metadata.pop(key, None)
    return nb


# ---------------------------------------------------------------------------
# What the built book knows: glue values, numbers, titles, citations
# ---------------------------------------------------------------------------


def _equations(app: Sphinx) -> dict[str, str]:
    """Equation label -> number as the pages show it (numfig style "1.2")."""
    numbers: dict[str, str] = {}
    math = app.env.get_domain("math")
    for label, (docname, number) in math.data.get("objects", {}).items():
        figs = app.env.toc_fignumbers.get(docname, {}).get("displaymath", {})
        shown = figs.get(make_id(f"equation-{label}"))
        numbers[label] = ".".join(map(str, shown)) if shown else str(number)
    return numbers


def _labels(app: Sphinx) -> dict[str, str]:
    """Reference label -> the title a {ref} shows (sections, figures, exercises)."""
    std = app.env.get_domain("std")
    labels = {name: title for name, (_doc, _id, title) in std.labels.items() if title}
    # Exercises are numbered ("Exercise 1.2"), as their titles on the page.
    for name, (docname, node_id) in std.anonlabels.items():
        number = app.env.toc_fignumbers.get(docname, {}).get("exercise", {}).get(node_id)
        if number:
            labels[name] = f"Exercise {'.'.join(map(str, number))}"
    return labels


def _numbers(app: Sphinx) -> dict[str, tuple[str, str]]:
    """Label -> (format, number) of every numbered figure, table, ... ("Fig. %s", "1.2")."""
    formats = {"exercise": "Exercise %s", **(app.config.numfig_format or {})}
    numbers = {}
    for name, (docname, node_id) in app.env.get_domain("std").anonlabels.items():
        for figtype, table in app.env.toc_fignumbers.get(docname, {}).items():
            if node_id in table:
                fmt = formats.get(figtype, figtype.capitalize() + " %s")
                numbers[name] = (fmt, ".".join(map(str, table[node_id])))
                break
    return numbers


def _citations(app: Sphinx) -> dict[str, tuple[str, str]]:
    """Citation key -> (surnames as cited in author-year style, year)."""
    from pybtex.database import parse_file

    cites: dict[str, tuple[str, str]] = {}
    for bib in app.config.bibtex_bibfiles:
        data = parse_file(str(Path(app.srcdir) / bib))
        for key, entry in data.entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
            if len(names) > 2:
                who = f"{names[0]} et al."
            elif names:
                who = " and ".join(names)
            else:
                who = entry.fields.get("organization", key)
            cites[key] = (who, entry.fields.get("year", "n.d."))
    return cites


def _doc_title(app: Sphinx, pagename: str) -> Callable[[str], str | None]:
    def title(target: str) -> str | None:
        target = re.sub(r"\.(md|ipynb|rst)$", "", target)
        if target.startswith("/"):
            docname = target.lstrip("/")
        else:
            docname = str(PurePosixPath(pagename).parent / target)
        docname = str(PurePosixPath(docname))
        node = app.env.titles.get(docname)
        return node.astext() if node is not None else None

    return title


def _book_context(app: Sphinx) -> dict[str, Any]:
    """Book-wide lookups, computed once per build."""
    cached = getattr(app.env, "_course_download_ctx", None)
    if cached is None:
        cached = {
            "equations": _equations(app),
            "labels": _labels(app),
            "numbers": _numbers(app),
            "citations": _citations(app),
        }
        app.env._course_download_ctx = cached
    return cached


def _glue(executed: Path) -> dict[str, str]:
    path = executed.with_suffix(".glue.json")
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v["data"]["text/plain"] for k, v in data.items() if "text/plain" in v.get("data", {})}


PREFACE = """\
*{title}* is a page of the course **{book}** ({repo}), as a notebook.

Its code runs as-is with the course's environment, which provides the
bundled data (`factordata`), the reference module (`solutions`) and every
package used here. To get it, run once:

```bash
git clone {repo}
cd {folder}
make venv                   # creates .venv from requirements.txt
.venv/bin/jupyter lab       # then open this notebook
```

(Without `make`: `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`.)
The numbers in the text were computed when the book was built; running the
cells recomputes them. Answers to the questions and solutions to the
exercises are collapsed: click them to show."""


def add_notebook_source(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if app.builder.format != "html" or doctree is None:
        return
    if pagename not in app.env.all_docs:
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        nb = nbformat.read(executed, as_version=4)
    else:
        import jupytext

        nb = jupytext.read(source)
    book = _book_context(app)
    ctx = Context(
        glue=_glue(executed),
        equations=book["equations"],
        labels=book["labels"],
        numbers=book["numbers"],
        doc_title=_doc_title(app, pagename),
        citations=book["citations"],
        substitutions={k: str(v) for k, v in (app.config.myst_substitutions or {}).items()},
    )
    repo = str(app.config.html_theme_options.get("repository_url") or "")
    title = doctree.next_node(nodes.title)
    preface = PREFACE.format(
        title=title.astext() if title is not None else pagename,
        book=app.config.html_title or app.config.project,
        repo=repo or "the course's repository",
        folder=PurePosixPath(repo).name or "the-repository",
    )
    plain = plain_notebook(nb, ctx, preface)
    for problem in dict.fromkeys(ctx.problems):
        logger.warning(f"notebook_download: {pagename}: {problem}", location=pagename)
    nbformat.write(plain, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_source, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
