"""The built book in a real browser: math rendered, images loaded, offline.

Headless Chromium (Debian's package at /usr/bin/chromium, which `make test`
installs when missing) opens each chapter page from a local HTTP server on
127.0.0.1 through Playwright's Python package. Playwright never downloads a
browser here: it drives the system one via ``executable_path``. Screenshots
go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
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

pytestmark = [pytest.mark.slow, pytest.mark.browser]


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
