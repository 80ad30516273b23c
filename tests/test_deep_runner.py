"""The experiment runner: deterministic, resumable, atomic, refuses stale results (rbmlib.deep.runner)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from rbmlib.deep import runner
from rbmlib.deep.methods import METHODS
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.results import COLUMNS
from rbmlib.deep.runner import ExperimentConfig, run_experiment
from rbmlib.deep.splits import load_split


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_recipe():
    r = default_recipe("digits")
    short = replace(r.ft, epochs=1)
    return replace(r, original=replace(r.original, epochs=3, milestones=()),
                   retrain=replace(r.retrain, epochs=3, milestones=()), ft=short,
                   rl=replace(r.rl, sgd=short), salun=replace(r.salun, rl=replace(r.rl, sgd=short)),
                   rbm=replace(r.rbm, rl=replace(r.rl, sgd=short)))


CFG = ExperimentConfig(dataset="digits", scenarios=("random:0.1", "class:3"),
                       methods=("retrain", "ft", "rbm"), seeds=(0,), recipe=_tiny_recipe())


def _drop_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["rte_s"])


def test_same_config_gives_identical_results_except_timings(tmp_path):
    a = run_experiment(CFG, tmp_path / "a", progress=False)
    b = run_experiment(CFG, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(_drop_time(a), _drop_time(b))
    assert list(a.columns) == list(COLUMNS) and len(a) == 6
    assert (a.loc[a.method == "retrain", "avg_gap"] == 0).all()
    assert a.loc[a.method != "retrain", "avg_gap"].notna().all()


def test_outputs_record_split_hash_config_and_environment(tmp_path):
    df = run_experiment(CFG, tmp_path, progress=False)
    meta = json.loads((tmp_path / "results.json").read_text())
    split = load_split(tmp_path / "splits" / "digits" / "class-3" / "seed0")
    assert meta["splits"]["class:3/seed0"]["sha256"] == split.sha256
    assert set(df.loc[df.scenario == "class:3", "split_sha256"]) == {split.sha256}
    assert meta["config"]["recipe"]["original"]["epochs"] == 3
    assert {"packages", "git_revision", "device"} <= set(meta["environment"])
    assert df.loc[df.scenario == "class:3", "n_test"].iloc[0] == len(split.test)
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(df) and list(on_disk.columns) == list(COLUMNS)


def test_resume_after_interruption_skips_finished_cells(tmp_path, monkeypatch):
    calls = []
    real_evaluate = runner.evaluate

    def evaluate_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated interruption in the second cell")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(runner, "evaluate", evaluate_then_fail)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(CFG, tmp_path / "r", progress=False)
    cells = sorted((tmp_path / "r" / "cells").rglob("*.json"))
    assert len(cells) == 1 and not list((tmp_path / "r").rglob("*.tmp"))
    first = cells[0].read_bytes()

    ran = []
    for name in CFG.methods:
        fn = METHODS[name]
        monkeypatch.setitem(METHODS, name, lambda *a, _fn=fn, _n=name, **k: ran.append(_n) or _fn(*a, **k))
    monkeypatch.setattr(runner, "evaluate", real_evaluate)
    resumed = run_experiment(CFG, tmp_path / "r", progress=False)
    assert len(ran) == 5 and cells[0].read_bytes() == first
    fresh = run_experiment(CFG, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(_drop_time(resumed), _drop_time(fresh))


def test_original_model_is_checkpointed_and_reused(tmp_path, monkeypatch):
    run_experiment(CFG, tmp_path, progress=False)
    assert (tmp_path / "originals" / "digits" / "seed0.pt").exists()

    def no_training(*args, **kwargs):
        raise AssertionError("the original model was retrained")

    monkeypatch.setattr(runner, "fit", no_training)
    more = run_experiment(replace(CFG, methods=("ft", "rl", "salun:0.3")), tmp_path, progress=False)
    assert set(more.method) == {"ft", "rl", "salun"} and more.avg_gap.notna().all()
    assert set(more.loc[more.method == "salun", "mask_ratio"]) == {0.3}


def test_changed_configuration_is_refused_instead_of_mixing_stale_results(tmp_path):
    run_experiment(CFG, tmp_path, progress=False)
    recipe = CFG.recipe
    changed = replace(CFG, recipe=replace(recipe, ft=replace(recipe.ft, lr=0.5)))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="different configuration"):
        run_experiment(changed, tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
        ({"methods": ("ft", "unlearn_all")}, "unknown method 'unlearn_all'"),
        ({"methods": ("rbm:1.5",)}, "mask ratio must be in \\(0, 1\\]"),
        ({"methods": ("ft:0.5",)}, "takes no mask ratio"),
        ({"scenarios": ("random:0",)}, "forget fraction must be in \\(0, 1\\)"),
        ({"scenarios": ("random:1.0",)}, "forget fraction must be in \\(0, 1\\)"),
        ({"scenarios": ("class:10",)}, "class id 10 out of range"),
        ({"seeds": (0, 0)}, "seeds must be distinct"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_input_raises_before_the_output_folder_exists(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        run_experiment(replace(CFG, **change), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_cuda_request_without_gpu_is_a_clear_error(tmp_path):

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="torch.cuda.is_available\\(\\) is False"):
        run_experiment(replace(CFG, device="cuda"), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_split_files_are_the_ones_every_cell_used(tmp_path):
    df = run_experiment(CFG, tmp_path, progress=False)
    for scenario, rows in df.groupby("scenario"):
        split = load_split(tmp_path / "splits" / "digits" / scenario.replace(":", "-") / "seed0")
        assert set(rows.split_sha256) == {split.sha256}
        assert set(rows.n_forget) == {len(split.forget)}
        assert np.intersect1d(split.forget, split.retain).size == 0
