"""Fault injection: SIGKILL at every write point, concurrent runs into one folder (rbmlib.deep.runner).

Each scenario runs the grid in forked processes whose write hook
(:func:`rbmlib.deep.artifacts._on_write`) logs every rename into place and can SIGKILL the process
at a chosen one. The final tables must equal those of an uninterrupted run (timings aside), and
every split, original and cell must have been committed exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from rbmlib.deep import artifacts
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.runner import ExperimentConfig, run_experiment

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cfg(split_seed: int = 0) -> ExperimentConfig:
    r = default_recipe("digits")
    short = replace(r.ft.sgd, epochs=1)
    recipe = replace(
        r,
        original=replace(r.original, epochs=2, milestones=()),
        retrain=replace(r.retrain, sgd=replace(r.retrain.sgd, epochs=2, milestones=())),
        ft=replace(r.ft, sgd=short),
    )
    base = ExperimentConfig(dataset="digits")
    return replace(
        base, methods=("retrain", "ft"), recipe=recipe, threads=1, split=replace(base.split, seed=split_seed)
    )


def _inside_temporary_folder(path: Path) -> bool:
    # save_split's own atomic writes inside an artifact's temporary folder are not commit points
    return any(part.startswith(".") and ".tmp" in part for part in path.parent.parts)


def _child(out: Path, log: Path, stage: str, at: int, split_seed: int) -> None:
    seen = 0

    def hook(when: str, path: Path) -> None:
        nonlocal seen
        if _inside_temporary_folder(Path(path)):
            return
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {when} {path}\n")
        if when == stage:
            seen += 1
            if seen == at:
                os.kill(os.getpid(), signal.SIGKILL)

    try:
        artifacts._on_write = hook
        run_experiment(_cfg(split_seed), out, progress=False)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _start(out: Path, log: Path, stage: str = "none", at: int = 0, split_seed: int = 0):
    """A forked process running the grid (fork: torch is already imported, so it starts at once)."""
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(out, log, stage, at, split_seed))
    proc.start()
    return proc


def _wait(proc, timeout: float = 240) -> int:
    proc.join(timeout)
    return proc.exitcode


def _committed(log: Path) -> Counter:
    """How often each artifact (not the mutable top-level tables) was renamed into place."""
    lines = [line.split(" ", 2) for line in log.read_text().splitlines()]
    return Counter(
        p for _, stage, p in lines if stage == "after" and Path(p).name not in ("results.csv", "results.json")
    )


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns="rte_s")


def test_sigkill_after_every_write_then_rerun_gives_the_uninterrupted_table(tmp_path):
    reference = run_experiment(_cfg(), tmp_path / "reference", progress=False)
    out, log = tmp_path / "killed", tmp_path / "log.txt"
    # A kill inside the first commit (temporary folder written, not yet renamed) ...
    assert _wait(_start(out, log, "before", 1)) == -signal.SIGKILL
    # ... then, run after run, a kill right after the next write, until a run completes.
    kills = 0
    while True:
        code = _wait(_start(out, log, "after", 1))
        if code == 0:
            break
        assert code == -signal.SIGKILL
        kills += 1
        assert kills < 20
    # split, original, 2 cells, run table, results.json, results.csv: a kill after each of them
    assert kills == 7
    pd.testing.assert_frame_equal(_table(out / "results.csv"), _table(tmp_path / "reference" / "results.csv"))
    assert reference.method.tolist() == ["retrain", "ft"]
    assert set(_committed(log).values()) == {1}  # no artifact was ever made twice
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]  # leftovers of the kills are gone


def test_concurrent_runs_with_conflicting_configs_in_one_folder_are_both_correct(tmp_path):
    out, log = tmp_path / "shared", tmp_path / "log.txt"
    procs = [_start(out, log, split_seed=s) for s in (0, 1)]
    assert [_wait(p) for p in procs] == [0, 0]
    alone = {s: run_experiment(_cfg(s), tmp_path / f"alone{s}", progress=False) for s in (0, 1)}
    shared = _table(out / "results.csv")
    assert len(shared) == 4 and set(shared.split_sha256) == set(alone[0].split_sha256) | set(alone[1].split_sha256)
    for s, table in alone.items():
        mine = shared[shared.run_sha256 == table.run_sha256.iloc[0]].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, _table(tmp_path / f"alone{s}" / "results.csv"))
    assert set(_committed(log).values()) == {1}


def test_concurrent_runs_of_the_same_config_do_each_piece_of_work_once(tmp_path):
    out, log = tmp_path / "shared", tmp_path / "log.txt"
    procs = [_start(out, log) for _ in range(2)]
    assert [_wait(p) for p in procs] == [0, 0]
    committed = _committed(log)
    assert set(committed.values()) == {1} and len(committed) == 5  # split, original, 2 cells, run
    reference = run_experiment(_cfg(), tmp_path / "reference", progress=False)
    pd.testing.assert_frame_equal(_table(out / "results.csv"), _table(tmp_path / "reference" / "results.csv"))
    assert len(reference) == 2
