# Two commands do all the set-up on a fresh machine:
#   make book   build the online book into _build/html
#   make test   run the whole test suite
# Each creates or refreshes .venv from requirements.txt first; a second run
# reinstalls nothing (the stamp file is newer than the requirements).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv book book-assignments browser system-packages axe test clean

help:
	@echo "make book   build the book (site in _build/html)"
	@echo "make test   run the whole test suite"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# ---- the book -------------------------------------------------------------
# MathJax 3 from the npm registry, served by the site itself (offline), and
# axe-core, the accessibility checker tests/test_browser.py injects into each
# page. One npm call installs both: `npm install --no-save X` alone removes
# what an earlier --no-save call put into node_modules/.
MATHJAX_VERSION := 3.2.2
MATHJAX         := node_modules/mathjax/es5/tex-mml-chtml.js
AXE_VERSION     := 4.14.1
AXE             := node_modules/axe-core/axe.min.js
# jupyter-cache re-executes a chapter when its code changes, not when the data
# or the reference module it imports do: empty the cache when those change.
JB_CACHE        := _build/.jupyter_cache
CACHE_INPUTS    := $(wildcard factordata/*.py factordata/data/* solutions/*.py) requirements.txt

$(MATHJAX) $(AXE) &:
	npm install --no-save --no-package-lock --no-audit --no-fund --prefix . \
		mathjax@$(MATHJAX_VERSION) axe-core@$(AXE_VERSION)
	@test -f $(MATHJAX) && test -f $(AXE) && touch $(MATHJAX) $(AXE)

_build/.cache-inputs: $(CACHE_INPUTS)
	rm -rf $(JB_CACHE)
	@mkdir -p _build && touch $@

# Student versions and worked solutions of the assignments into book/_generated
# (rerun only when an assignment's source or the nbgrader config changes).
GENERATED := book/_generated/.exported
$(GENERATED): $(STAMP) $(wildcard exercises/source/*/*.ipynb exercises/nbgrader_config.py) book/_scripts/export_assignments.py book/_scripts/model_answers.py
	$(BIN)/python book/_scripts/export_assignments.py
	@touch $@

book-assignments: $(GENERATED)

# Execute the pages missing from the execution cache, in parallel (Jupyter
# Book 1.x executes one page at a time), so that the Sphinx build finds them
# all cached; a cell error fails here, with the cell and its traceback.
# Importing pyplot first builds matplotlib's font cache outside the pages,
# whose first run would otherwise print a notice to stderr.
EXECUTED := _build/.executed
$(EXECUTED): $(STAMP) _build/.cache-inputs $(GENERATED) $(wildcard book/*.md) _toc.yml _config.yml book/_scripts/execute_pages.py
	@$(BIN)/python -c "import matplotlib.pyplot"
	$(BIN)/python book/_scripts/execute_pages.py
	@touch $@

# -W -n --keep-going: any Sphinx warning (a broken reference, stderr output of
# a cell) fails the build; _config.yml also stops on the first cell error.
# The site is rebuilt when any file under book/, the configuration, the
# generated assignments or the executed pages changed; otherwise make skips
# Sphinx altogether (its start-up alone takes seconds).
SITE        := _build/html/.built
BOOK_INPUTS := $(shell find book -type f -not -path 'book/_generated/*' -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*') _config.yml _toc.yml
$(SITE): $(STAMP) $(MATHJAX) $(EXECUTED) $(BOOK_INPUTS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@touch $@

book: $(SITE)

# Debian packages the tests need, installed when missing and we are root:
# headless Chromium for tests/test_browser.py (skipped loudly without it) and
# bubblewrap, the grader's sandbox (autograder/sandbox.py; `autograder grade`
# refuses to run without it unless told --no-sandbox).
CHROMIUM := /usr/bin/chromium
BWRAP    := /usr/bin/bwrap
system-packages:
	@missing=""; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	[ -x $(BWRAP) ] || missing="$$missing bubblewrap"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -q && apt-get install -y -q $$missing) \
		|| echo "WARNING: could not install$$missing"; \
	fi
	@test -x $(CHROMIUM) || echo "WARNING: $(CHROMIUM) is missing; browser tests will be skipped"
	@test -x $(BWRAP) || echo "WARNING: $(BWRAP) is missing; sandbox tests will fail"

browser: system-packages $(AXE)

axe: $(AXE)

test: $(STAMP) book browser
	$(BIN)/python -m pytest

clean:
	rm -rf _build book/_generated
