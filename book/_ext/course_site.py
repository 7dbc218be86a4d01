"""The course's own stylesheet and script, and fixes the installed theme needs.

Adds ``book/_static/course.css`` and ``book/_static/course.js`` to every
page. Jupyter Book turns every ``.js`` under the *root* ``_static/`` folder
into a script tag by itself; ``book/_static`` is not that folder, so this
extension registers it (``html_static_path``) and names the two files.

What they do (the comments in the files say why):

- the menu button works: with pydata-sphinx-theme 0.17 and
  sphinx-book-theme 1.3, both themes attach their sidebar handlers to the
  *first* ``.primary-toggle`` / ``.secondary-toggle`` of the page, a button in
  a header the book theme hides (pydata-sphinx-theme #2451); the visible
  buttons get none. ``course.js`` forwards their clicks;
- nothing is wider than a phone: inline code breaks anywhere, display
  equations scroll inside their own box with a visible shadow at the edge
  that hides more (and the box takes keyboard focus), inline math is not
  clipped;
- search results show formulas as text, not LaTeX source.

It also derives, from the one repository address of ``_config.yml``
(``repository.url``, which reaches the pages as the MyST substitution
``{{ repo_url }}``), the substitutions ``{{ repo_link }}`` (the address as a
link: MyST does not substitute inside a link's target) and
``{{ issues_url }}``.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

STATIC = Path(__file__).resolve().parents[1] / "_static"


def add_static_path(app: Sphinx, config: Config) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def add_repository_substitutions(app: Sphinx, config: Config) -> None:
    subs = config.myst_substitutions
    url = str(subs.get("repo_url") or config.html_theme_options.get("repository_url") or "")
    if not url:
        return
    subs.setdefault("repo_url", url)
    subs.setdefault("repo_link", f"[{url}]({url})")
    subs.setdefault("issues_url", f"{url.rstrip('/')}/issues")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_static_path)
    app.connect("config-inited", add_repository_substitutions)
    app.add_css_file("course.css")
    app.add_js_file("course.js", defer="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
