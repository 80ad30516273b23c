"""Wall time of `make test`, phase by phase, against the goal of issue 14 (<= 3 min on 2 cores).

Runs the steps of the Makefile's ``test`` target with the venv's tools, each timed on its own:
``ruff check``, ``ruff format --check``, ``mypy`` from a cold cache (as in a fresh clone), and the
pytest suite (``-n 2 --dist loadfile``, with ``--durations`` so the slowest tests are named). With
``--fresh-clone`` it first clones the checkout's HEAD into a temporary folder and times the
bootstrap there too (``make venv``: goal for bootstrap plus tests <= 8 min). Prints one JSON
object; a failing step is reported with its exit status (the timing is still printed).

Usage::

    python benchmarks/bench_make_test.py [--skip-pytest] [--fresh-clone]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_TEST_S = 180.0
GOAL_FRESH_S = 480.0


def _make_env() -> dict[str, str]:
    """The environment ``make`` gives its recipes: the Makefile unexports PYTHONDONTWRITEBYTECODE."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], cwd: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_make_env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-12:]
    return {"cmd": " ".join(cmd), "wall_s": round(wall, 1), "rc": proc.returncode, "tail": tail}


def phases(repo: Path, bin_dir: Path, *, pytest: bool) -> dict[str, dict]:
    """Time each step of ``make test`` in ``repo`` with the tools of ``bin_dir``."""
    out = {
        "ruff_check": _timed([str(bin_dir / "ruff"), "check"], repo),
        "ruff_format": _timed([str(bin_dir / "ruff"), "format", "--check"], repo),
    }
    with tempfile.TemporaryDirectory() as cache:  # a cold mypy, as after a fresh clone
        out["mypy_cold"] = _timed([str(bin_dir / "mypy"), "--cache-dir", cache], repo)
    if pytest:
        cmd = [str(bin_dir / "python"), "-m", "pytest", "-n", "2", "--dist", "loadfile", "--durations=10", "-q"]
        out["pytest"] = _timed(cmd, repo)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pytest", action="store_true", help="time the lint and type steps only")
    parser.add_argument("--fresh-clone", action="store_true", help="clone HEAD and time `make venv` first")
    args = parser.parse_args()

    report: dict = {"host": platform.node(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    if args.fresh_clone:
        folder = Path(tempfile.mkdtemp(prefix="rbm-fresh-clone-"))
        try:
            repo = folder / "repo"
            subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
            report["make_venv"] = _timed(["make", "venv"], repo)
            report["phases"] = phases(repo, repo / ".venv" / "bin", pytest=not args.skip_pytest)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        bin_dir = Path(sys.executable).parent
        if not (bin_dir / "ruff").exists():
            print(f"error: no ruff beside {sys.executable}; run this with the venv's python", file=sys.stderr)
            raise SystemExit(2)
        report["phases"] = phases(ROOT, bin_dir, pytest=not args.skip_pytest)
    test_s = sum(p["wall_s"] for p in report["phases"].values())
    report["make_test_s"] = round(test_s, 1)
    report["make_test_goal_s"] = GOAL_TEST_S
    if args.fresh_clone:
        report["fresh_clone_s"] = round(test_s + report["make_venv"]["wall_s"], 1)
        report["fresh_clone_goal_s"] = GOAL_FRESH_S
    report["all_passed"] = all(p["rc"] == 0 for p in report["phases"].values())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
