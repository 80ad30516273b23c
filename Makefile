# The book's two commands: `make book` and `make test`. Both create .venv first when it is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := book

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := --all -W -n --keep-going

.PHONY: book test venv references lock chromium clean benchmarks

# The venv is rebuilt whenever the pinned requirements or the package metadata change.
$(STAMP): requirements/base.in requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/base.in -c requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# Build the whole book from a clean _build/html, executing every notebook.
book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Book built: $(CURDIR)/_build/html/index.html"

# Headless Chromium for the browser test (Debian's package; never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser test..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; \
	  command -v chromium >/dev/null || { echo "error: could not install chromium (apt-get install chromium)"; exit 1; }; }

# Every test: unit and property tests, nbval notebook regression, book build, browser, environment.
test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Regenerate the nbval reference outputs on purpose (after an intended change of outputs).
references: $(STAMP)
	$(BIN)/python tests/nbrefs.py

# Re-resolve the whole dependency set and rewrite the lock (on purpose only).
lock:
	rm -rf /tmp/rbm-lock-venv && $(PYTHON) -m venv /tmp/rbm-lock-venv
	/tmp/rbm-lock-venv/bin/python -m pip install --quiet -r requirements/base.in
	{ sed -n '1,3p' requirements/lock.txt; /tmp/rbm-lock-venv/bin/python -m pip freeze --all | grep -v -E '^(rbmlib|pip)( |=|@)'; } > requirements/lock.txt.tmp
	mv requirements/lock.txt.tmp requirements/lock.txt

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/bench_linear.py

clean:
	rm -rf _build .pytest_cache .hypothesis
