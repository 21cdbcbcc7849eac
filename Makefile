# Two entry points for a fresh machine (see README):
#   make course   set up, execute every notebook in full mode, print the results table
#   make test     set up, lint, run the unit tests and the stored-output checks, then execute every
#                 notebook in FAST mode (nbval) on each Keras backend in BACKENDS
# The commands behind them are in tools/ (python -m tools.runner --help).
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
ARGS     ?=
# KERAS_BACKEND=jax make test runs the notebooks on that backend only.
BACKENDS ?= $(if $(KERAS_BACKEND),$(KERAS_BACKEND),tensorflow jax torch)
# PyTorch's own index serves the CPU-only build (about 200 MB); PyPI's Linux wheel is the CUDA one (several GB).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN   := $(shell grep -E '^torch==' requirements.txt)
NBVAL    := --nbval-lax --sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup course fast benchmark test lint unit process-tests lanes notebooks student clean test-latest

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --index-url $(TORCH_INDEX) "$(TORCH_PIN)" || \
	  echo "note: $(TORCH_INDEX) is not reachable; torch comes from the default index instead"
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

course: setup
	$(BIN)/python -m tools.runner $(ARGS)

fast: setup
	$(BIN)/python -m tools.runner --fast $(ARGS)

benchmark: setup
	$(BIN)/python -m tools.benchmark $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m tools.course sync --check
	$(BIN)/python -m tools.tables readme --check

# The unit tests run in this process; the tests marked "processes" start Jupyter kernels, fresh interpreters that
# import Keras, logical devices and two-process training (seconds each), and run as a lane beside the notebooks.
unit: setup
	$(BIN)/python -m pytest -m "not processes" tests

process-tests: setup
	@echo "== tests that start processes =="
	$(BIN)/python -m pytest -m processes tests

# The student edition (notebooks/student/): solutions replaced by stubs, generated from the notebooks.
student: setup
	$(BIN)/python -m tools.editions

# The backends run two at a time: a FAST notebook spends most of its time starting a kernel, importing and
# compiling on one core, so two runs share the two cores of a small machine well. Each backend's log is
# printed whole when it ends (--output-sync); -k lets the others finish when one fails.
# The instructor edition runs with COURSE_CHECKS=solutions (an exercise check that fails is an error); the
# student edition on one backend with COURSE_CHECKS=stubs (every check must say "not attempted", and the
# notebook must run on past it).
NB_JOBS ?= 2
STUDENT_BACKEND ?= jax
notebooks: setup
	@$(MAKE) --no-print-directory -k -j$(NB_JOBS) --output-sync=target $(addprefix nbval-,$(BACKENDS)) nbval-student

lanes: setup
	@$(MAKE) --no-print-directory -k -j$(NB_JOBS) --output-sync=target process-tests $(addprefix nbval-,$(BACKENDS)) \
	  nbval-student

nbval-student:
	@echo "== student edition, FAST mode, KERAS_BACKEND=$(STUDENT_BACKEND) =="
	KERAS_BACKEND=$(STUDENT_BACKEND) COURSE_FAST=1 COURSE_CHECKS=stubs $(BIN)/python -m pytest $(NBVAL) notebooks/student

nbval-%:
	@echo "== notebooks, FAST mode, KERAS_BACKEND=$* =="
	KERAS_BACKEND=$* COURSE_FAST=1 COURSE_CHECKS=solutions $(BIN)/python -m pytest $(NBVAL) notebooks/[0-9]*.ipynb

test: setup lint unit lanes

# The newest releases of Keras and its three backends in a separate environment (build/venv-latest, several GB):
# every notebook in FAST mode on each of LATEST_BACKENDS ("default": each notebook's own; or tensorflow, jax,
# torch); writes results/latest.md and results/latest.json. Not part of `make test` or CI (see README): run it
# when Colab or a backend ships a new release, on the backends whose release is newer than the pin.
LATEST_BACKENDS ?= default
test-latest: setup
	$(BIN)/python -m tools.latest --backends $(LATEST_BACKENDS) $(ARGS)

clean:
	rm -rf build .pytest_cache
