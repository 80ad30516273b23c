"""``pip install rbmlib`` (no extras) gives a working linear side: no module outside
:mod:`rbmlib.deep` needs torch or any other requirement of the ``deep``/``cluster`` extras.

The check runs in a fresh interpreter in which importing any of those distributions fails, as it
would in a venv without them; ``tools/check_fresh_install.sh`` makes the same check in a real
fresh venv (``pip install .``), which needs the package index and so is not a unit test.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import rbmlib
from rbmlib.cli import EXTRA_MODULES

ROOT = Path(__file__).resolve().parents[1]

#: Top-level import names of the distributions the extras add (scikit-learn also comes with
#: mlxtend, but no linear module may import it: the deep code alone uses it).
EXTRA_IMPORTS = {
    "torch": "torch",
    "torchvision": "torchvision",
    "scikit-learn": "sklearn",
    "filelock": "filelock",
    "ray": "ray",
    "submitit": "submitit",
}

# Run in the child: make every extra's import fail, as if it were not installed.
BLOCKER = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Absent())
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    blocked = ",".join(EXTRA_IMPORTS.values())
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code, blocked, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def linear_modules() -> list[str]:
    """Every module of the package outside :mod:`rbmlib.deep`."""
    found = pkgutil.walk_packages(rbmlib.__path__, prefix="rbmlib.")
    names = ["rbmlib", *(m.name for m in found if not m.name.startswith("rbmlib.deep"))]
    return sorted(n for n in names if n != "rbmlib.__main__")


def test_the_blocked_names_are_exactly_the_extras_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {Requirement(r).name for r in project["dependencies"]}
    extras = {Requirement(r).name for key in ("deep", "cluster") for r in project["optional-dependencies"][key]}
    assert extras - base - {"rbmlib"} == set(EXTRA_IMPORTS)
    assert set(EXTRA_IMPORTS.values()) == EXTRA_MODULES  # the CLI's "needs the deep extra" message


def test_the_blocker_really_blocks():
    result = _run("import torch")
    assert result.returncode != 0 and "No module named 'torch'" in result.stderr


def test_every_linear_module_imports_without_the_extras():
    modules = linear_modules()
    assert {"rbmlib.cli", "rbmlib.linear_model", "rbmlib.theory.masked", "rbmlib.claims"} <= set(modules)
    code = "import importlib, sys\nfor m in sys.argv[2:]:\n    importlib.import_module(m)\nprint(len(sys.argv) - 2)"
    result = _run(code, *modules)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(len(modules))


def test_the_linear_cli_runs_without_the_extras():
    code = "import runpy, sys\nsys.argv = ['rbmlib', *sys.argv[2:]]\nrunpy.run_module('rbmlib', run_name='__main__')"
    argv = (
        "linear --d-forget 12 --d-shared 4 --d-retain 16 --n-forget 4 --n-retain 8 --draws 20 --seed 0 --theory --json"
    )
    result = _run(code, *argv.split())
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["model"]: r for r in json.loads(result.stdout)["rows"]}
    assert {"original", "golden", "ft", "rbm", "fbm"} <= set(rows)
    assert rows["golden"]["forgetting_loss"]["mean"] > 0


def test_a_deep_command_without_the_extras_names_the_extra():
    code = "import sys\nfrom rbmlib.cli import main\nraise SystemExit(main(sys.argv[2:]))"
    result = _run(code, "report", "results")
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "rbmlib[deep]" in lines[0] and "torch" in lines[0]
