"""What the site offers besides its pages: downloads, worked solutions,
licences, and where the course lives.

- Each chapter's ``.ipynb`` download reads well in plain JupyterLab (no MyST
  markup left: glued numbers filled in as the page shows them, answers in
  closed ``<details>`` blocks) and runs as-is with nbclient.
- The worked solutions are executed: their pages show numbers.
- LICENSE (MIT) and LICENSE-CONTENT (CC BY 4.0) exist and the footer names
  them; the repository address is set in one place, ``_config.yml``.

The conversion tests at the top run without a build; the rest read
``_build/html`` (and run ``make book`` when there is none).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import notebook_download  # noqa: E402
from notebook_download import Context, plain_notebook, to_plain_markdown  # noqa: E402

#: MyST pages that are notebooks (a kernelspec): each has a download.
CHAPTERS = ("intro", "data", "ch1_alpha_beta", "ch2_hedging", "ch3_risk_budgets",
            "ch4_variance", "ch5_covariance")
ASSIGNMENTS = ("alpha-beta", "hedging", "risk-budgets", "variance-shares", "five-tickers")
#: MyST markup that plain Jupyter shows as it is.
MYST_MARKUP = ("{glue", ":::{", "```{", "{eq}", "{ref}", "{doc}", "{cite", "{numref}",
               "{download}", "{{", "(eq:", "\x00")


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


# ---- the conversion itself (no build needed) --------------------------------

def _ctx(**kw) -> Context:
    base = dict(glue={"x": "0.123456", "name": "'WMT'", "n": "6864"},
                equations={"eq:model": "1.1"},
                labels={"ch2": "Tracking and hedging", "ex1": "Exercise 1.2"},
                citations={"sharpe1964": ("Sharpe", "1964")},
                substitutions={"repo_url": "https://example.org/course"})
    base.update(kw)
    return Context(**base)


def test_glue_roles_are_formatted_as_the_page_formats_them():
    ctx = _ctx()
    text = "{glue:text}`x:.2f`, {glue:text}`x:.1%`, {glue:text}`name`, {glue:text}`n:,d` and {glue}`n`"
    assert to_plain_markdown(text, ctx) == "0.12, 12.3%, WMT, 6,864 and 6864"
    assert ctx.problems == []


def test_unknown_names_are_reported_not_hidden():
    ctx = _ctx()
    to_plain_markdown("{glue:text}`nope:.2f` {eq}`eq:nope` {ref}`nope` {cite}`nope`", ctx)
    assert len(ctx.problems) == 4, ctx.problems


def test_references_equations_citations_substitutions():
    ctx = _ctx()
    src = ("(sec)=\n# Title\n\nSee equation {eq}`eq:model`, {ref}`ch2`, {ref}`the next chapter <ch2>`,"
           " {cite:t}`sharpe1964`, {cite:p}`sharpe1964`, {{ repo_url }}.\n\n"
           "$$\nr = \\alpha + \\beta f\n$$ (eq:model)\n")
    out = to_plain_markdown(src, ctx)
    assert "(sec)=" not in out and out.startswith("# Title")
    assert "See equation (1.1), Tracking and hedging, the next chapter," in out
    assert "Sharpe (1964), (Sharpe, 1964), https://example.org/course." in out
    assert "$$\nr = \\alpha + \\beta f \\tag{1.1}\n$$" in out
    assert ctx.problems == []


def test_substitutions_are_jinja_as_in_myst_and_figures_numbered():
    ctx = _ctx(numbers={"fig-a": ("Fig. %s", "2.3")})
    src = ("Lives at {{ '[{0}]({0})'.format(repo_url) }}:\n\n"
           "{{ '```bash\\ngit clone {} x\\n```'.format(repo_url) }}\n\n"
           "As {numref}`fig-a` and {numref}`Figure %s <fig-a>` show.")
    out = to_plain_markdown(src, ctx)
    assert out == ("Lives at [https://example.org/course](https://example.org/course):\n\n"
                   "```bash\ngit clone https://example.org/course x\n```\n\n"
                   "As Fig. 2.3 and Figure 2.3 show.")
    assert ctx.problems == []
    cell = nbformat.v4.new_code_cell("plot()", metadata={"mystnb": {"figure": {
        "caption": "Betas {glue:text}`x:.2f`.", "name": "fig-a"}}})
    out = plain_notebook(nbformat.v4.new_notebook(cells=[cell]), ctx, "preface")
    assert [c.source for c in out.cells] == ["preface", "plot()", "**Fig. 2.3** Betas 0.12."]


def test_admonitions_become_quotes_and_answers_details():
    src = (":::{admonition} Stop and think\n:class: tip\nWhy is it {glue:text}`x:.1f`?\n:::\n"
           ":::{admonition} Answer\n:class: dropdown\nBecause.\n\n- a list\n:::\n\n"
           "```{note}\nA note, with ``{eq}`` in code.\n```\n")
    out = to_plain_markdown(src, _ctx())
    assert "> **Stop and think**\n>\n> Why is it 0.1?" in out
    assert "<details>\n<summary>Answer</summary>\n\nBecause.\n\n- a list\n\n</details>" in out
    assert "> **Note**\n>\n> A note, with ``{eq}`` in code." in out  # code is kept as written
    assert ":::" not in out and "```" not in out


def test_code_blocks_in_markdown_are_left_alone():
    src = "Text {glue:text}`n`.\n\n```python\nx = '{glue:text}`n`'\n```\n"
    assert to_plain_markdown(src, _ctx()) == "Text 6864.\n\n```python\nx = '{glue:text}`n`'\n```"


def test_solutions_spanning_cells_are_collapsed():
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(cells=[
        md(":::{exercise-start}\n:label: ex1\n:::\n\nDo it.\n\n:::{exercise-end}\n:::\n\n"
           ":::{solution-start} ex1\n:class: dropdown\n:::"),
        nbformat.v4.new_code_cell("print(1)"),
        md("Why it works.\n\n:::{solution-end}\n:::\n\nNext section."),
        nbformat.v4.new_code_cell("print(2)"),
    ])
    out = plain_notebook(nb, _ctx(), "preface")
    sources = [c.source for c in out.cells]
    assert sources[0] == "preface"
    assert sources[1] == "**Exercise 1.2.**\n\nDo it."
    assert sources[2] == "**Solution to Exercise 1.2** (collapsed: click to show)"
    assert out.cells[3].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert sources[4].startswith("<details>\n<summary>Solution to Exercise 1.2 (continued)</summary>")
    assert sources[4].endswith("</details>\n\nNext section.")
    assert "jupyter" not in out.cells[5].metadata, "code after the solution is collapsed"
    assert [c.source for c in out.cells if c.cell_type == "code"] == ["print(1)", "print(2)"]


# ---- the built site ---------------------------------------------------------

@pytest.fixture(scope="module")
def built():
    if not (HTML / "index.html").is_file():
        done = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"make book failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return HTML


def download(name: str) -> nbformat.NotebookNode:
    path = HTML / "_sources" / "book" / f"{name}.ipynb"
    assert path.is_file(), f"no download for {name}"
    return nbformat.read(path, as_version=4)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_download_has_no_myst_markup(built, name):
    nb = download(name)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for markup in MYST_MARKUP:
            assert markup not in cell.source, f"{name}.ipynb cell {i} shows {markup!r}: {cell.source[:300]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_download_fills_in_glued_numbers_and_collapses_answers(built, name):
    """Every glued number of the page's source appears in the download, as
    myst-nb formats it on the page; every answer is a closed <details>."""
    from myst_nb.core.variables import format_plain_text

    source = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
    text = "\n".join(c.source for c in download(name).cells if c.cell_type == "markdown")
    glue_file = EXECUTED / "book" / f"{name}.glue.json"
    glued = json.loads(glue_file.read_text()) if glue_file.is_file() else {}
    for key, fmt in re.findall(r"\{glue:text\}`([\w-]+)(?::([^`]*))?`", source):
        assert key in glued, f"{name}: {key} was not glued at build time"
        value = format_plain_text(glued[key]["data"]["text/plain"], fmt)
        assert value in text, f"{name}: glued {key} ({value}) missing from the download"
    answers = len(re.findall(r"^:::\{admonition\} Answer", source, flags=re.M))
    assert text.count("<summary>Answer</summary>") == answers
    assert text.count("<details>") == text.count("</details>")


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_download_says_what_it_needs(built, name):
    first = download(name).cells[0]
    assert first.cell_type == "markdown"
    repo = config()["repository"]["url"]
    assert f"git clone {repo}" in first.source and "make venv" in first.source
    assert "factordata" in first.source and "solutions" in first.source


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_downloaded_notebook_runs_as_is(built, name, tmp_path):
    """The download, outputs cleared, runs top to bottom in a kernel of the
    course's environment, from a folder outside the repository."""
    from nbclient import NotebookClient

    source = HTML / "_sources" / "book" / f"{name}.ipynb"
    target = tmp_path / source.name
    shutil.copy(source, target)
    nb = nbformat.read(target, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert [c.source for c in nb.cells if c.cell_type == "code"] == code
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" or o.get("name") == "stderr"]
    assert not errors, f"{name}: {errors[:1]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_worked_solution_shows_numbers(built, name):
    page = HTML / "book" / "_generated" / "solutions" / f"{name}-solution.html"
    if not page.is_file():
        pytest.skip("the worked solutions are not in this book (an instructor dropped them)")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    outputs = [o.get_text() for o in soup.select("div.cell_output")]
    numbers = [t for t in outputs if re.search(r"\d\.\d", t)]
    assert numbers, f"{name}: the worked solution shows no computed number ({len(outputs)} outputs)"


# ---- licences and the repository --------------------------------------------

def test_licence_files():
    mit = (ROOT / "LICENSE").read_text()
    assert mit.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in mit
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    cc = (ROOT / "LICENSE-CONTENT").read_text()
    assert "CC BY 4.0" in cc and "https://creativecommons.org/licenses/by/4.0/legalcode" in cc


def test_repository_address_is_set_once():
    cfg = config()
    url = cfg["repository"]["url"]
    assert re.match(r"https://github\.com/[\w.-]+/[\w.-]+$", url), url
    # The substitution and the theme take it from the same YAML anchor.
    assert cfg["parse"]["myst_substitutions"]["repo_url"] == url
    assert cfg["sphinx"]["config"]["html_theme_options"]["repository_url"] == url
    text = (ROOT / "_config.yml").read_text()
    assert text.count(url) == 1, "the repository address is written more than once in _config.yml"
    for path in [*(ROOT / "book").glob("*.md"), *(ROOT / "book" / "_ext").glob("*.py"),
                 *(ROOT / "book" / "_static").glob("*")]:
        assert url not in path.read_text(encoding="utf-8"), f"{path} repeats {url}: use {{{{ repo_url }}}}"


@pytest.mark.slow
def test_footer_names_licences_and_pages_link_the_repository(built):
    url = config()["repository"]["url"]
    for page in ("book/intro", "book/ch1_alpha_beta", "book/references"):
        soup = BeautifulSoup((HTML / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        text = " ".join(" ".join(f.get_text() for f in soup.find_all("footer")).split())
        assert "MIT License" in text and "CC BY 4.0" in text, f"{page}: footer does not name the licences"
        assert "LICENSE-CONTENT" in text
        links = [a["href"] for a in soup.find_all("a", href=True)]
        assert url in links, f"{page}: no link to the repository"
