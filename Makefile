# Two entry points for a fresh machine (see README):
#   make course   set up, execute every notebook in full mode, print the results table
#   make test     set up, lint, run the unit tests and execute every notebook in FAST mode (nbval)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: setup course fast test lint unit notebooks clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

course: setup
	$(BIN)/python -m utils.runner $(ARGS)

fast: setup
	$(BIN)/python -m utils.runner --fast $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m utils.course sync --check

unit: setup
	$(BIN)/python -m pytest tests

notebooks: setup
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax --sanitize-with tests/nbval_sanitize.cfg notebooks

test: setup lint
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax --sanitize-with tests/nbval_sanitize.cfg tests notebooks

clean:
	rm -rf build .pytest_cache
