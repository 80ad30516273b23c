# The book's two commands: `make book` and `make test`. Both create .venv first when it is missing.
SHELL := /bin/bash
# The venv is installed without precompiled bytecode (a faster install), so Python must be free to
# cache the bytecode of what it imports: where the environment sets PYTHONDONTWRITEBYTECODE, every
# process (each notebook kernel, each CLI run of the tests) would compile torch and the rest from
# source again: importing torch, pandas, matplotlib and rbmlib.deep takes 20 s that way, 7.6 s
# from the cache.
unexport PYTHONDONTWRITEBYTECODE
.DEFAULT_GOAL := book

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := --all -W -n --keep-going

.PHONY: book test fix venv references lock chromium clean benchmarks

# The venv is rebuilt whenever the lock or the package metadata change. Every package comes from
# pyproject.toml's `dev` extra at exactly the version of requirements/lock.txt; setuptools first,
# so that the editable install needs no isolated build environment.
$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -c requirements/lock.txt setuptools
	$(BIN)/python -m pip install --quiet --no-compile --no-build-isolation -c requirements/lock.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Build the whole book from a clean _build: every notebook executed once, as many at a time as
# there are CPUs (tools/build_book.py; JOBS=1 for one at a time), then rendered by Jupyter Book.
book: $(STAMP)
	$(BIN)/python tools/build_book.py . $(if $(JOBS),--jobs $(JOBS)) -- $(JB_FLAGS)
	@echo "Book built: $(CURDIR)/_build/html/index.html"

# Headless Chromium for the browser test (Debian's package; never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser test..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; \
	  command -v chromium >/dev/null || { echo "error: could not install chromium (apt-get install chromium)"; exit 1; }; }

# Every test: lint, format and types first (seconds; their scope is set in pyproject.toml), then
# unit and property tests, the book build (each notebook executed once) compared with the nbval
# references, the browser and the environment checks.
test: $(STAMP) chromium
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy
	@# Files in collection order: tests/test_book.py (the book build, the longest file) starts first on
	@# one worker and the other worker takes every other file; reordering by test count would start it late.
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# Apply every automatic lint fix and the formatter (then review the diff).
fix: $(STAMP)
	RUFF=$(BIN)/ruff tools/lint_fix.sh

# Regenerate the nbval reference outputs on purpose (after an intended change of outputs).
references: $(STAMP)
	$(BIN)/python tests/nbrefs.py

# Derive the lock from pyproject.toml (on purpose only). uv keeps every version already locked
# that still satisfies pyproject.toml, so a new requirement changes nothing else; `make lock
# UPGRADE=1` re-resolves everything to the newest releases. environment.yml installs from the lock.
# Needs no .venv (which is installed *from* the lock): uv comes from .venv when it is there, else
# from a throwaway venv at the locked version.
LOCK_FLAGS := --extra dev --python-version 3.11.5 --python-platform x86_64-manylinux_2_28 --no-header
lock:
	@set -euo pipefail; \
	uv=$(BIN)/uv; \
	if [ ! -x "$$uv" ]; then \
	  tools=$$(mktemp -d); trap 'rm -rf "$$tools"' EXIT; \
	  $(PYTHON) -m venv "$$tools" && "$$tools/bin/python" -m pip install --quiet -c requirements/lock.txt uv; \
	  uv="$$tools/bin/uv"; \
	fi; \
	out=$$(mktemp -p requirements .lock.XXXXXX); cp requirements/lock.txt "$$out"; \
	"$$uv" pip compile pyproject.toml $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) --quiet -o "$$out" || { rm "$$out"; exit 1; }; \
	cat requirements/lock-header.txt "$$out" > "$$out.new" && mv "$$out.new" requirements/lock.txt; rm "$$out"; \
	echo "requirements/lock.txt: $$(grep -c '==' requirements/lock.txt) pins"

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/bench_linear.py

clean:
	rm -rf _build .pytest_cache .hypothesis .mypy_cache .ruff_cache
