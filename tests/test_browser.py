"""The built book in a real browser: math rendered, images loaded, offline;
usable on a phone and a laptop, and accessible.

Headless Chromium (Debian's package at /usr/bin/chromium, which `make test`
installs when missing) opens each chapter page from a local HTTP server on
127.0.0.1 through Playwright's Python package. Playwright never downloads a
browser here: it drives the system one via ``executable_path``. Screenshots
go to ``_build/screenshots/``.

At a laptop's size (1366x768) and a phone's (390x844), every page of the
site: does not scroll sideways, shows no display equation cut off without a
sign that it scrolls, and has no serious or critical violation found by
axe-core (the npm package that `make book` installs next to MathJax, injected
into the page). The menu button opens the navigation and its links work.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGES = (
    "book/intro",
    "book/data",
    "book/ch1_alpha_beta",
    "book/ch2_hedging",
    "book/ch3_risk_budgets",
    "book/ch4_variance",
    "book/ch5_covariance",
    "book/ch6_many_factors",
    "book/notation",
    "book/practice",
    "book/_generated/assignments/alpha-beta",
)
#: Pages that must contain rendered equations.
MATH_PAGES = {"book/ch1_alpha_beta", "book/ch2_hedging", "book/ch3_risk_budgets",
              "book/ch4_variance", "book/ch5_covariance", "book/ch6_many_factors", "book/notation",
              "book/_generated/assignments/alpha-beta"}

#: The two screen sizes every page is checked at.
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def all_pages() -> list[str]:
    """Every page of the site (the book's pages, search, index), as a path without .html."""
    if not (HTML / "index.html").is_file():
        return list(PAGES)
    skip = {"mathjax", "_static", "_sources", "_images"}
    return sorted(
        p.relative_to(HTML).with_suffix("").as_posix()
        for p in HTML.rglob("*.html")
        if not skip & set(p.relative_to(HTML).parts)
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="module")
def site():
    """Serve _build/html on 127.0.0.1 (a free port) for the module's tests."""
    if not (HTML / "index.html").is_file():
        done = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"make book failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            "!!! BROWSER TESTS SKIPPED: /usr/bin/chromium is not installed and `make test` "
            "could not install it (apt-get install chromium needs root and the Debian "
            "registry). The book was NOT checked in a browser. !!!"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


VISIBLE_TEXT_JS = """
() => {
  const root = document.querySelector('article') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  return copy.textContent;
}
"""


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_offline(site, browser, docname):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, failures, console_errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failures.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.url} (HTTP {r.status})"))
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    try:
        page.goto(f"{site}/{docname}.html", wait_until="load", timeout=60_000)
        if docname in MATH_PAGES:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
            )
            page.evaluate("() => MathJax.startup.promise")
            assert page.locator("mjx-container").count() > 0, f"{docname}: MathJax rendered nothing"
        page.wait_for_load_state("networkidle", timeout=30_000)
        text = page.evaluate(VISIBLE_TEXT_JS)
        for raw in ("$$", "\\(", "\\[", "\\begin{"):
            assert raw not in text, f"{docname}: raw math {raw!r} left in the text"
        broken = page.evaluate(
            "() => Array.from(document.images)"
            ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"{docname}: images not loaded: {broken}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{docname.replace('/', '_')}.png"), full_page=True)
    finally:
        page.close()
    remote = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
              and urlsplit(u).hostname != "127.0.0.1"]
    assert not remote, f"{docname}: requests to other hosts: {remote}"
    assert not failures, f"{docname}: failed requests: {failures}"
    assert not console_errors, f"{docname}: console errors: {console_errors}"


# ---- phone and laptop: layout, equations, accessibility, menu ---------------

#: Display equations: cut off (wider than their box) without a way to see the
#: rest, or with the number drawn over them. Returns one message per problem.
MATH_AUDIT_JS = """
() => {
  const problems = [];
  document.querySelectorAll('mjx-container[display="true"]').forEach((box, i) => {
    const where = (box.closest('[id]') || {}).id || `display equation ${i}`;
    const r = box.getBoundingClientRect();
    const holder = box.parentElement.getBoundingClientRect();
    if (r.right > innerWidth + 1 || r.right > holder.right + 1 || r.left < holder.left - 1)
      problems.push(`${where}: box sticks out of its column (${Math.round(r.left)}-${Math.round(r.right)} px)`);
    if (box.scrollWidth > box.clientWidth + 1) {
      const style = getComputedStyle(box);
      if (!/(auto|scroll)/.test(style.overflowX)) problems.push(`${where}: cut off, does not scroll`);
      if (!/gradient/.test(style.backgroundImage)) problems.push(`${where}: scrolls without a shadow at its edge`);
      if (box.getAttribute('tabindex') !== '0') problems.push(`${where}: scrolls but takes no keyboard focus`);
    }
    const number = box.parentElement.querySelector(':scope > .eqno');
    if (number) {
      const n = number.getBoundingClientRect();
      if (n.left < r.right - 1 && n.right > r.left + 1 && n.top < r.bottom && n.bottom > r.top)
        problems.push(`${where}: the equation number overlaps the equation`);
    }
  });
  return problems;
}
"""

#: Elements that stick out to the right of the screen without a scrolling box
#: around them (what makes a page scroll sideways), for the failure message.
WIDE_ELEMENTS_JS = """
() => {
  const inScroller = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  return Array.from(document.querySelectorAll('.bd-main *'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1 && !inScroller(e); })
    .slice(0, 5).map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> ${(e.textContent || '').trim().slice(0, 60)}`);
}
"""


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.is_file():
        subprocess.run(["make", "axe"], cwd=ROOT, capture_output=True, text=True)
    assert AXE.is_file(), f"{AXE} missing: `make axe` (npm install axe-core) failed"
    return AXE.read_text(encoding="utf-8")


def _open(browser, site, docname, size):
    """A page at one of SIZES, loaded, MathJax done and the course script run."""
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{site}/{docname}.html", wait_until="load", timeout=60_000)
    page.wait_for_function(
        "() => document.documentElement.getAttribute('data-course-math') === 'ready'", timeout=60_000
    )
    return page


@pytest.fixture(scope="module")
def audits(site, browser, axe_source):
    """Per (page, size): its width, equation problems and axe violations (each page loaded once)."""
    done: dict[tuple[str, str], dict] = {}

    def audit(docname: str, size: str) -> dict:
        if (docname, size) not in done:
            page = _open(browser, site, docname, size)
            try:
                width = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
                wide = page.evaluate(WIDE_ELEMENTS_JS) if width[0] > width[1] else []
                math = page.evaluate(MATH_AUDIT_JS)
                page.evaluate(axe_source)
                violations = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                    ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                    " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
                )
            finally:
                page.close()
            done[(docname, size)] = {"width": width, "wide": wide, "math": math, "axe": violations}
        return done[(docname, size)]

    return audit


AUDITED = [(size, doc) for size in SIZES for doc in all_pages()]
AUDIT_IDS = [f"{size}-{doc}" for size, doc in AUDITED]


@pytest.mark.parametrize("size,docname", AUDITED, ids=AUDIT_IDS)
def test_page_does_not_scroll_sideways(audits, size, docname):
    result = audits(docname, size)
    scroll_width, inner_width = result["width"]
    assert scroll_width <= inner_width, (
        f"{docname} at {size} size is {scroll_width} px wide in a {inner_width} px window; "
        f"sticking out: {result['wide']}"
    )


@pytest.mark.parametrize("size,docname", AUDITED, ids=AUDIT_IDS)
def test_no_equation_cut_without_a_scroll_sign(audits, size, docname):
    problems = audits(docname, size)["math"]
    assert not problems, f"{docname} at {size} size:\n" + "\n".join(problems)


@pytest.mark.parametrize("size,docname", AUDITED, ids=AUDIT_IDS)
def test_no_serious_accessibility_violation(audits, size, docname):
    bad = [v for v in audits(docname, size)["axe"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{docname} at {size} size, axe-core:\n" + json.dumps(bad, indent=1)


def test_wide_equations_scroll_on_a_phone(audits, browser, site):
    """The check above has something to check: on a phone, wide equations do
    scroll (and scrolling moves them), rather than being squeezed or hidden."""
    page = _open(browser, site, "book/ch2_hedging", "phone")
    try:
        scrolling = page.locator("mjx-container.course-scrolls")
        assert scrolling.count() >= 1, "no equation of chapter 2 is wider than a phone: test data changed?"
        moved = scrolling.first.evaluate("b => { b.scrollLeft = 10000; return b.scrollLeft; }")
        assert moved > 0
    finally:
        page.close()
    assert not audits("book/ch2_hedging", "phone")["math"]


def _visible(page, selector):
    buttons = page.locator(f"{selector}:visible")
    assert buttons.count() >= 1, f"no visible {selector}"
    return buttons.first


def test_menu_opens_and_navigates_on_a_phone(site, browser):
    page = _open(browser, site, "book/ch1_alpha_beta", "phone")
    try:
        assert not page.locator("#pst-primary-sidebar").is_visible(), "sidebar shown on a phone"
        _visible(page, ".primary-toggle").click()
        dialog = page.locator("#pst-primary-sidebar-modal")
        dialog.wait_for(state="visible", timeout=5_000)
        assert page.evaluate("() => document.querySelector('#pst-primary-sidebar-modal').open")
        link = dialog.locator('a[href$="ch2_hedging.html"]')
        assert link.count() >= 1, "the menu has no link to chapter 2"
        link.first.click()
        page.wait_for_url("**/book/ch2_hedging.html", timeout=30_000)
        # "On this page" opens too, and Escape closes it.
        page.wait_for_load_state("load")
        _visible(page, ".secondary-toggle").click()
        page.locator("#pst-secondary-sidebar-modal").wait_for(state="visible", timeout=5_000)
        page.keyboard.press("Escape")
        page.locator("#pst-secondary-sidebar-modal").wait_for(state="hidden", timeout=5_000)
    finally:
        page.close()


def test_menu_toggles_and_navigates_on_a_laptop(site, browser):
    page = _open(browser, site, "book/ch1_alpha_beta", "laptop")
    try:
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible(), "no sidebar on a laptop"
        toggle = _visible(page, ".primary-toggle")
        toggle.click()
        sidebar.wait_for(state="hidden", timeout=5_000)
        toggle.click()
        sidebar.wait_for(state="visible", timeout=5_000)
        sidebar.locator('a[href$="ch3_risk_budgets.html"]').first.click()
        page.wait_for_url("**/book/ch3_risk_budgets.html", timeout=30_000)
    finally:
        page.close()


def test_search_snippets_show_no_latex(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{site}/search.html?q=beta", wait_until="load", timeout=60_000)
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li p.context').length >= 3", timeout=60_000
        )
        page.wait_for_timeout(500)  # the last summaries
        text = page.locator("#search-results").inner_text()
        for raw in ("\\(", "\\)", "\\beta", "\\hat", "\\frac", "$$"):
            assert raw not in text, f"search results show {raw!r}: {text[:500]!r}"
        assert "β" in text, "no formula shown as text in the search results"
        assert page.evaluate(r"() => courseLatexToText('\\(\\hat{\\beta}_i = \\frac{a}{b}\\)')") == "β̂ᵢ = a/b"
    finally:
        page.close()
