#!/usr/bin/env bash
# Apply every automatic lint fix, then the formatter, to what `make test` lints (the repository
# minus pyproject.toml's [tool.ruff] extend-exclude and .gitignore). Run it once after merging branches, review `git diff`, commit; what remains
# of `ruff check` afterwards needs a hand fix (long strings and comments, a few bugbear findings).
#
#   tools/lint_fix.sh            (uses .venv/bin/ruff, or $RUFF)
set -euo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-.venv/bin/ruff}
[[ -x $RUFF ]] || { echo "error: ruff not found at $RUFF (run make venv, or set RUFF)" >&2; exit 2; }
# Safe fixes only: import order, quoted annotations, unused imports, pyupgrade rewrites.
"$RUFF" check --fix --silent || true
"$RUFF" format --quiet
echo "after the automatic fixes:"
if "$RUFF" check --statistics; then echo "ruff check: clean"; fi
