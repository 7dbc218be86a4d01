"""Offer every MyST Markdown chapter for download as a Jupyter notebook.

sphinx-book-theme shows its ``.ipynb`` download button only for pages whose
``ipynb_source`` is set, and for text (MyST) notebooks it sets it only while
a launch button (Binder, Colab, ...) is configured -- which an offline book
must not have. This extension does that one step itself: for each page
written from a MyST notebook (a ``.md`` source with a ``kernelspec``) it puts
``<pagename>.ipynb`` next to the page's source in ``_sources/`` and sets
``ipynb_source``, so the theme adds the button.

The notebook is the one myst-nb executed for this build
(``_build/jupyter_execute/<pagename>.ipynb``: the chapter's cells with their
outputs), so it opens with its figures and runs as it is in Jupyter with the
course installed. Pages without an executed copy (not executed) get their
source converted by jupytext instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from sphinx.application import Sphinx


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
        shutil.copy2(executed, target)
    else:
        nbformat.write(jupytext.read(source), target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_source, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
