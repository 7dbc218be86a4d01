"""Serve MathJax 3 from the built site itself, so the book works offline.

Sphinx loads MathJax from a CDN by default. The course sets ``mathjax_path``
to a local copy (``../mathjax/tex-mml-chtml.js``: Sphinx prefixes relative
paths with ``_static/``) and this extension copies the npm package's ``es5``
folder (installed by ``make book`` into ``node_modules/mathjax``) to
``<outdir>/mathjax/`` once the HTML is written.

Why not ``html_static_path``: Jupyter Book adds every ``.js`` file found under
``_static/`` as a ``<script>`` tag on every page, which would load hundreds of
MathJax components eagerly. Why not ``html_extra_path``: it copies a folder's
*contents* to the site root, and the npm package would need a wrapper folder
that does not exist in a fresh clone. A twenty-line copy is simpler.

Configuration (in ``_config.yml`` under ``sphinx: config:``):

``offline_mathjax_source``
    Folder holding MathJax's ``es5`` build, relative to the book's root.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path, PurePosixPath

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Parts of MathJax's es5 folder the site needs: the combined bundle named in
#: ``mathjax_path`` is added at run time. ``latest.js`` (which redirects to a
#: CDN) and the Node-only entry points are left out on purpose.
COMPONENT_DIRS = ("a11y", "adaptors", "input", "output", "sre", "ui")
SITE_FOLDER = "mathjax"


def _bundle_name(app: Sphinx) -> str:
    """File name of the combined MathJax bundle that ``mathjax_path`` names."""
    path = app.config.mathjax_path
    if "://" in path:
        raise ExtensionError(
            f"mathjax_path must be a local path for an offline site, got {path!r}"
        )
    parts = PurePosixPath(path).parts
    if SITE_FOLDER not in parts:
        raise ExtensionError(
            f"mathjax_path must point into ../{SITE_FOLDER}/, got {path!r}"
        )
    return str(PurePosixPath(*parts[parts.index(SITE_FOLDER) + 1 :]))


def _source(app: Sphinx) -> Path:
    return (Path(app.confdir) / app.config.offline_mathjax_source).resolve()


def check_source(app: Sphinx) -> None:
    """Fail early, with the fix in the message, when MathJax is not installed."""
    if app.builder.format != "html":
        return
    bundle = _source(app) / _bundle_name(app)
    if not bundle.is_file():
        raise ExtensionError(
            f"MathJax not found at {bundle}. Run `make book`, which installs it "
            "with `npm install mathjax@3` into node_modules/."
        )


def _sync(src: Path, dst: Path) -> int:
    """Copy ``src`` to ``dst`` where missing or different; return files copied."""
    if src.is_file():
        if dst.is_file() and filecmp.cmp(src, dst, shallow=True):
            return 0
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        return 1
    return sum(_sync(child, dst / child.name) for child in sorted(src.iterdir()))


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """After a successful HTML build, mirror MathJax into ``<outdir>/mathjax``."""
    if exception is not None or app.builder.format != "html":
        return
    src = _source(app)
    dst = Path(app.outdir) / SITE_FOLDER
    copied = _sync(src / _bundle_name(app), dst / _bundle_name(app))
    for name in COMPONENT_DIRS:
        if (src / name).is_dir():
            copied += _sync(src / name, dst / name)
    if copied:
        logger.info(f"offline_mathjax: copied {copied} files to {dst}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("offline_mathjax_source", "node_modules/mathjax/es5", "html")
    app.connect("builder-inited", check_source)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
