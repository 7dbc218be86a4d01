"""The built book: every page there, figures present, no errors, fully offline.

These tests read the HTML that ``make book`` writes to ``_build/html`` (they
run ``make book`` themselves when no build exists; ``make test`` builds the
book first). They parse the pages rather than grepping them, so a check
names the page and the element that failed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

# The toc walk lives with the build step that executes the pages.
sys.path.insert(0, str(ROOT / "book" / "_scripts"))
from execute_pages import toc_names  # noqa: E402
SOURCES = ROOT / "exercises" / "source"

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("alpha-beta", "hedging", "risk-budgets", "variance-shares", "five-tickers", "many-factors")

#: Figures (cell-output images) each chapter must show at least; from the
#: figures the book's issue asks for (see the comments) and the chapters.
MIN_FIGURES = {
    # a first look: prices or cumulative returns, and the return series
    "book/data": 2,
    # stocks co-move with the market; residual against factor, defensive
    # and cyclical
    "book/ch1_alpha_beta": 2,
    # asset vs tracking; factor vs asset and tracking; factor vs hedged
    "book/ch2_hedging": 3,
    # position sizes at three horizons, hedged and unhedged
    "book/ch3_risk_budgets": 1,
    # factor share over rolling windows through the crises; its drivers
    "book/ch4_variance": 2,
    # implied vs sample heatmaps; residual correlations; parameter counts
    "book/ch5_covariance": 3,
    # alphas CAPM vs FF3; Euler contributions; parameter counts; residual
    # correlation after 1 and 3 factors; PCA vs FF3; out-of-sample GMV
    "book/ch6_many_factors": 6,
}
CHAPTERS = tuple(MIN_FIGURES)

HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME")


@pytest.fixture(scope="module", autouse=True)
def built_book():
    """Reuse the build in _build/html, or run `make book` when there is none."""
    if not (HTML / "index.html").is_file():
        done = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"make book failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return HTML


def toc_files() -> list[str]:
    """Every page named in _toc.yml (root included), as a docname."""
    return [re.sub(r"\.(md|ipynb)$", "", f) for f in toc_names()]


@lru_cache(maxsize=None)
def soup(docname: str) -> BeautifulSoup:
    path = HTML / f"{docname}.html"
    assert path.is_file(), f"{docname}.html was not built"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def site_pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if "mathjax" not in p.relative_to(HTML).parts)


def test_toc_lists_every_required_page():
    files = set(toc_files())
    required = {"book/intro", "book/practice", "book/notation", "book/takeaways", "book/references", *CHAPTERS}
    required |= {f"book/_generated/assignments/{a}" for a in ASSIGNMENTS}
    assert required <= files, f"missing from _toc.yml: {sorted(required - files)}"
    # The worked solutions are optional (an instructor drops their one line),
    # but all or none.
    solutions = {f"book/_generated/solutions/{a}-solution" for a in ASSIGNMENTS}
    assert solutions <= files or not solutions & files, "some worked solutions missing from _toc.yml"


def test_worked_solutions_are_one_droppable_line():
    """Deleting the line that names them removes every worked solution."""
    lines = (ROOT / "_toc.yml").read_text().splitlines()
    holders = [line for line in lines if "_generated/solutions/" in line]
    if not holders:
        pytest.skip("the worked solutions are not in this book")
    assert len(holders) == 1, "the worked solutions should sit on one line of _toc.yml"
    toc = yaml.safe_load("\n".join(line for line in lines if line not in holders))
    assert "_generated/solutions/" not in json.dumps(toc)
    for page in ("book/practice.md", "book/intro.md", "book/takeaways.md"):
        text = (ROOT / page).read_text()
        assert "_generated/solutions" not in text, f"{page} links to a worked solution"


@pytest.mark.parametrize("docname", toc_files())
def test_every_toc_page_is_built(docname):
    assert (HTML / f"{docname}.html").is_file(), f"{docname}.html not in _build/html"


def test_title_author_copyright():
    page = soup("book/intro")
    assert "Introduction to Factor Models" in page.title.get_text()
    footer = page.find(class_="copyright")
    assert footer is not None and "2026" in footer.get_text()


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_has_its_figures(docname):
    images = [
        img
        for out in soup(docname).select("div.cell_output, figure")
        for img in out.find_all("img")
    ]
    assert len(images) >= MIN_FIGURES[docname], (
        f"{docname}: {len(images)} figures, expected at least {MIN_FIGURES[docname]}"
    )
    for img in images:
        src = HTML / Path(f"{docname}.html").parent / unquote(img["src"])
        assert src.resolve().is_file(), f"{docname}: image {img['src']} missing"


@pytest.mark.parametrize("docname", toc_files())
def test_no_error_or_traceback_in_outputs(docname):
    page = soup(docname)
    bad = page.select(
        "div.cell_output .stderr, div.cell_output .traceback, div.cell_output .error, "
        "div.output.stderr, div.output.traceback, div.highlight-ipythontb"
    )
    assert not bad, f"{docname}: error/stderr output: {bad[0].get_text()[:300]!r}"
    for out in page.select("div.cell_output"):
        text = out.get_text()
        assert "Traceback (most recent call last)" not in text, f"{docname}: traceback in output"
        assert not re.search(r"\b\w+Error: ", text), f"{docname}: error message in output: {text[:300]!r}"


def _is_remote(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or bool(re.match(r"(?i)https?:", url))


def remote_loads(html: str, name: str) -> list[str]:
    """What a page would load from another host (links to read are fine)."""
    offenders = []
    page = BeautifulSoup(html, "html.parser")
    for tag in page.find_all(["script", "img", "iframe", "source", "video", "audio", "embed"]):
        if tag.get("src") and _is_remote(tag["src"]):
            offenders.append(f"{name}: <{tag.name} src={tag['src']}>")
    for tag in page.find_all("link"):
        rel = set(tag.get("rel", []))
        if rel - {"next", "prev", "index", "search", "canonical", "author", "license", "help"}:
            if tag.get("href") and _is_remote(tag["href"]):
                offenders.append(f"{name}: <link rel={sorted(rel)} href={tag['href']}>")
    for tag in page.find_all("object"):
        if tag.get("data") and _is_remote(tag["data"]):
            offenders.append(f"{name}: <object data={tag['data']}>")
    # Inline scripts and styles: no address of another host at all (a script
    # can load anything; sphinx-thebe, analytics and require.js show up here).
    for tag in page.find_all(["script", "style"]):
        address = re.search(r"(?i)https?://[^\s\"']+", tag.get_text())
        if address:
            offenders.append(f"{name}: inline <{tag.name}> mentions {address.group(0)}")
    for tag in page.find_all(style=True):
        if re.search(r"(?i)url\(\s*['\"]?(https?:)?//", tag["style"]):
            offenders.append(f"{name}: style attribute loads {tag['style']}")
    return offenders


def test_remote_load_detector():
    """The check below flags what a CDN-backed page does, and only that."""
    bad = """<html><head>
      <script src="https://cdn.example.org/require.js"></script>
      <link rel="stylesheet" href="//fonts.example.com/css">
      <script>const THEBE_JS_URL = "https://unpkg.com/thebe"</script>
      </head><body><img src="http://example.org/a.png">
      <div style="background: url('https://example.org/b.png')"></div></body></html>"""
    assert len(remote_loads(bad, "bad")) == 5
    fine = """<html><head><script src="../_static/x.js"></script>
      <link rel="stylesheet" href="../_static/y.css"></head>
      <body><a href="https://doi.org/10.1111/j.1540-6261.1964.tb02865.x">doi</a>
      <img src="../_images/z.png"></body></html>"""
    assert remote_loads(fine, "fine") == []


def test_no_remote_scripts_styles_fonts_or_images():
    """Nothing a page loads comes from another host (links to read are fine)."""
    offenders = []
    for path in site_pages():
        offenders += remote_loads(path.read_text(encoding="utf-8"), str(path.relative_to(HTML)))
    assert not offenders, "remote loads:\n" + "\n".join(offenders[:20])


def test_no_remote_urls_in_stylesheets():
    offenders = []
    for css in HTML.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"(?i)(url\(\s*['\"]?|@import\s+['\"])((https?:)?//[^'\")\s]+)", text):
            offenders.append(f"{css.relative_to(HTML)}: {match.group(2)}")
    assert not offenders, "stylesheets load from other hosts:\n" + "\n".join(offenders[:20])


@pytest.mark.parametrize("docname", CHAPTERS)
def test_mathjax_is_served_locally(docname):
    scripts = [s["src"] for s in soup(docname).find_all("script", src=True) if "mathjax" in s["src"].lower()]
    assert len(scripts) == 1, f"{docname}: expected one MathJax script, got {scripts}"
    target = (HTML / Path(f"{docname}.html").parent / urlsplit(scripts[0]).path).resolve()
    assert target.is_file() and target.is_relative_to(HTML.resolve()), f"{docname}: {scripts[0]} not in site"
    assert "_static" not in target.relative_to(HTML.resolve()).parts
    fonts = list((HTML / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "MathJax's CHTML fonts are not in the site"


def _relative_links(docname: str, suffix: str) -> list[str]:
    hrefs = [a["href"] for a in soup(docname).find_all("a", href=True)]
    return [h for h in hrefs if urlsplit(h).path.endswith(suffix) and not _is_remote(h)]


@pytest.mark.parametrize("docname", ["book/intro", *CHAPTERS])
def test_chapter_offers_its_notebook(docname):
    links = _relative_links(docname, ".ipynb")
    assert any("_sources/" in h for h in links), f"{docname}: no .ipynb download button"
    for href in links:
        target = HTML / Path(f"{docname}.html").parent / unquote(urlsplit(href).path)
        assert target.resolve().is_file(), f"{docname}: download {href} does not resolve"
        nbformat.validate(nbformat.read(target, as_version=4))


def test_every_ipynb_link_in_the_site_resolves():
    broken = []
    for path in site_pages():
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for a in page.find_all("a", href=True):
            href = a["href"]
            if _is_remote(href) or not urlsplit(href).path.endswith(".ipynb"):
                continue
            if not (path.parent / unquote(urlsplit(href).path)).resolve().is_file():
                broken.append(f"{path.relative_to(HTML)} -> {href}")
    assert not broken, "broken notebook links:\n" + "\n".join(broken)


def _hidden_lines(name: str) -> set[str]:
    """Lines only the hidden tests of an assignment's source notebook contain."""
    nb = nbformat.read(SOURCES / name / f"{name}.ipynb", as_version=4)
    hidden, visible = set(), set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            else:
                (hidden if inside else visible).add(line.strip())
    return {line for line in hidden - visible if len(line) >= 12}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_pages_show_no_hidden_tests(name):
    student = f"book/_generated/assignments/{name}"
    solution = f"book/_generated/solutions/{name}-solution"
    assert (SOURCES / name / f"{name}.ipynb").is_file(), f"source notebook of {name} missing"
    for docname in (student, solution):
        if not (HTML / f"{docname}.html").is_file():
            assert docname == solution, f"{docname}.html missing"
            continue  # an instructor dropped the worked solutions
        page = soup(docname)
        assert not page.select(".assignment-placeholder"), f"{docname} is a placeholder page"
        text = page.get_text()
        for marker in HIDDEN_MARKERS:
            assert marker not in text, f"{docname} shows {marker!r}"
        leaked = [line for line in _hidden_lines(name) if line in text]
        assert not leaked, f"{docname} shows hidden-test code: {leaked[:3]}"
    # The student page is the released notebook, downloadable and unexecuted.
    download = HTML / "_sources" / f"{student}.ipynb"
    assert download.is_file(), f"no download for {student}"
    nb = nbformat.read(download, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name}: outputs in student copy"
    raw = json.dumps(nb)
    for marker in HIDDEN_MARKERS:
        assert marker not in raw, f"student download of {name} contains {marker!r}"
    assert not [line for line in _hidden_lines(name) if line in raw], f"hidden tests in {name} download"
    practice_links = _relative_links("book/practice", f"{name}.ipynb")
    assert practice_links, f"practice page has no download link for {name}"


def test_downloaded_chapter_runs_as_is(tmp_path):
    """A reader's download of the first chapter runs top to bottom in Jupyter."""
    from nbclient import NotebookClient

    source = HTML / "_sources" / "book" / "ch1_alpha_beta.ipynb"
    target = tmp_path / source.name
    shutil.copy(source, target)  # elsewhere: no relative path may be needed
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= MIN_FIGURES["book/ch1_alpha_beta"]
