"""The experiment runner: deterministic, resumable, atomic, content-addressed (rbmlib.deep.runner)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from rbmlib.deep import tasks
from rbmlib.deep.artifacts import ArtifactError
from rbmlib.deep.methods import METHODS
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.results import COLUMNS
from rbmlib.deep.runner import PROVENANCE_COLUMNS, ExperimentConfig, OutputError, run_experiment
from rbmlib.deep.splits import load_split

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_recipe():
    r = default_recipe("digits")
    short = replace(r.ft.sgd, epochs=1)
    return replace(
        r,
        original=replace(r.original, epochs=3, milestones=()),
        retrain=replace(r.retrain, sgd=replace(r.retrain.sgd, epochs=3, milestones=())),
        ft=replace(r.ft, sgd=short),
        rl=replace(r.rl, sgd=short),
        salun=replace(r.salun, sgd=short),
        rbm=replace(r.rbm, sgd=short),
    )


CFG = ExperimentConfig(
    dataset="digits",
    scenarios=("random:0.1", "class:3"),
    methods=("retrain", "ft", "rbm"),
    seeds=(0,),
    recipe=_tiny_recipe(),
    threads=1,
)
ALL_COLUMNS = list(COLUMNS) + list(PROVENANCE_COLUMNS)


def _split_of(out, scenario):
    (folder,) = (out / "splits" / "digits").glob(f"{scenario.replace(':', '-')}-seed0-*")
    return load_split(folder / "split")


def _drop_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["rte_s"]).reset_index(drop=True)


def test_same_config_gives_identical_results_except_timings(tmp_path):
    a = run_experiment(CFG, tmp_path / "a", progress=False)
    b = run_experiment(CFG, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(_drop_time(a), _drop_time(b))
    assert list(a.columns) == ALL_COLUMNS and len(a) == 6
    assert (a.loc[a.method == "retrain", "avg_gap"] == 0).all()
    assert a.loc[a.method != "retrain", "avg_gap"].notna().all()


def test_every_row_is_traced_to_its_config_split_and_environment(tmp_path):
    df = run_experiment(CFG, tmp_path, progress=False)
    meta = json.loads((tmp_path / "results.json").read_text())
    split = _split_of(tmp_path, "class:3")
    (run,) = meta["runs"].values()
    assert run["splits"]["class:3/seed0"]["sha256"] == split.sha256
    assert run["config"]["recipe"]["original"]["epochs"] == 3 and run["config"]["threads"] == 1
    assert set(df.loc[df.scenario == "class:3", "split_sha256"]) == {split.sha256}
    assert df.loc[df.scenario == "class:3", "n_test"].iloc[0] == len(split.test)
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(df) == len(meta["rows"]) and list(on_disk.columns) == ALL_COLUMNS
    for row, prov in zip(on_disk.itertuples(index=False), meta["rows"]):
        assert (prov["config_sha256"], prov["split_sha256"]) == (row.config_sha256, row.split_sha256)
        assert prov["run_sha256"] == row.run_sha256 in meta["runs"]
        assert {"packages", "git_revision", "device", "torch_threads"} <= set(prov["environment"])
        assert json.loads((tmp_path / prov["cell"]).read_text())["record"]["config_sha256"] == row.config_sha256


def test_results_json_covers_every_row_after_two_calls(tmp_path):
    run_experiment(CFG, tmp_path, progress=False)
    run_experiment(replace(CFG, methods=("retrain", "ga")), tmp_path, progress=False)
    on_disk = pd.read_csv(tmp_path / "results.csv")
    meta = json.loads((tmp_path / "results.json").read_text())
    assert len(meta["runs"]) == 2 and len(meta["rows"]) == len(on_disk) == 8  # retrain rows shared
    assert set(on_disk.method) == {"retrain", "ft", "rbm", "ga"}


def test_resume_after_interruption_skips_finished_cells(tmp_path, monkeypatch):
    calls = []
    real_evaluate = tasks.evaluate

    def evaluate_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated interruption in the second cell")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(tasks, "evaluate", evaluate_then_fail)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(CFG, tmp_path / "r", progress=False)
    cells = sorted((tmp_path / "r" / "cells").rglob("*.json"))
    assert len(cells) == 1 and not list((tmp_path / "r").rglob("*.tmp*"))
    first = cells[0].read_bytes()

    ran = []
    for name in CFG.methods:
        fn = METHODS[name]
        monkeypatch.setitem(METHODS, name, lambda *a, _fn=fn, _n=name, **k: ran.append(_n) or _fn(*a, **k))
    monkeypatch.setattr(tasks, "evaluate", real_evaluate)
    resumed = run_experiment(CFG, tmp_path / "r", progress=False)
    assert len(ran) == 5 and cells[0].read_bytes() == first
    fresh = run_experiment(CFG, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(_drop_time(resumed), _drop_time(fresh))


def test_original_model_is_checkpointed_and_reused(tmp_path, monkeypatch):
    run_experiment(CFG, tmp_path, progress=False)
    assert len(list((tmp_path / "originals" / "digits").glob("seed0-*/model.pt"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("the original model was retrained")

    monkeypatch.setattr(tasks, "fit", no_training)
    more = run_experiment(replace(CFG, methods=("ft", "rl", "salun:0.3")), tmp_path, progress=False)
    assert set(more.method) == {"ft", "rl", "salun"} and more.avg_gap.notna().all()
    assert set(more.loc[more.method == "salun", "mask_ratio"]) == {0.3}


def _counting_methods(monkeypatch):
    ran = []
    for name, fn in list(METHODS.items()):
        monkeypatch.setitem(METHODS, name, lambda *a, _fn=fn, _n=name, **k: ran.append(_n) or _fn(*a, **k))
    return ran


def test_changed_configuration_gets_its_own_artifacts_and_leaves_others_untouched(tmp_path, monkeypatch):
    first = run_experiment(CFG, tmp_path, progress=False)
    stamps = {
        p: p.stat().st_mtime_ns
        for p in tmp_path.rglob("*")
        if p.is_file() and ".locks" not in p.parts and p.parent != tmp_path
    }
    recipe = CFG.recipe
    changed = replace(CFG, recipe=replace(recipe, ft=replace(recipe.ft, sgd=replace(recipe.ft.sgd, lr=0.5))))
    ran = _counting_methods(monkeypatch)
    second = run_experiment(changed, tmp_path, progress=False)
    assert ran == ["ft", "ft"]  # only the changed cells are computed; retrain and rbm are reused
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    fresh = run_experiment(changed, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(
        _drop_time(second).drop(columns="run_sha256"), _drop_time(fresh).drop(columns="run_sha256")
    )
    assert not first.ra.equals(second.ra)


def test_thread_counts_are_keyed_apart_and_never_mixed(tmp_path, monkeypatch):
    one = run_experiment(replace(CFG, methods=("retrain", "ft")), tmp_path, progress=False)
    ran = _counting_methods(monkeypatch)
    two = run_experiment(replace(CFG, methods=("retrain", "ft"), threads=2), tmp_path, progress=False)
    assert sorted(ran) == ["ft", "ft", "retrain", "retrain"]  # nothing made with 1 thread is reused
    assert not set(one.config_sha256) & set(two.config_sha256)
    assert len(list((tmp_path / "originals" / "digits").glob("seed0-*"))) == 2
    cells = [json.loads(p.read_text()) for p in (tmp_path / "cells").rglob("*.json")]
    assert sorted(c["config"]["compute"]["threads"] for c in cells) == [1] * 4 + [2] * 4


def test_damaged_original_model_is_an_error_naming_the_folder(tmp_path):
    run_experiment(replace(CFG, methods=("ft",)), tmp_path, progress=False)
    (model,) = (tmp_path / "originals" / "digits").glob("seed0-*/model.pt")
    model.write_bytes(model.read_bytes()[:100])  # truncated
    with pytest.raises(ArtifactError, match=f"{model.parent}.*delete that folder"):
        run_experiment(replace(CFG, methods=("ft", "ga")), tmp_path, progress=False)


def test_stray_json_in_cells_and_runs_is_ignored(tmp_path):
    run_experiment(replace(CFG, methods=("ft",)), tmp_path, progress=False)
    (tmp_path / "cells" / "notes.json").write_text("{not json")
    (tmp_path / "runs" / "mine").mkdir()
    (tmp_path / "runs" / "mine" / "results.json").write_text("[]")
    df = run_experiment(replace(CFG, methods=("ft", "ga")), tmp_path, progress=False)
    assert len(df) == 4


def test_foreign_results_csv_is_never_overwritten(tmp_path):
    (tmp_path / "results.csv").write_text("mine,not yours\n1,2\n")
    with pytest.raises(OutputError, match="results.csv was not written by this runner"):
        run_experiment(CFG, tmp_path, progress=False)
    assert (tmp_path / "results.csv").read_text() == "mine,not yours\n1,2\n"


def test_artifacts_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        run_experiment(replace(CFG, methods=("ft",)), tmp_path / "o", progress=False)
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "o").rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o640}


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
        split = _split_of(tmp_path, scenario)
        assert set(rows.split_sha256) == {split.sha256}
        assert set(rows.n_forget) == {len(split.forget)}
        assert np.intersect1d(split.forget, split.retain).size == 0


def test_each_scenario_runs_with_the_recipe_tuned_for_its_kind(tmp_path, monkeypatch):
    from rbmlib.deep.planning import make_plan

    cfg = ExperimentConfig(
        dataset="digits",
        scenarios=("random:0.1", "class:3", "noisy:0.1"),
        methods=("retrain", "salun"),
        seeds=(0,),
        threads=1,
    )
    plan = make_plan(cfg)
    for sc in cfg.scenarios:
        expected = default_recipe("digits", sc)
        assert plan.recipe(sc) == expected
        (salun,) = [c for c in plan.cells if c.scenario == sc and c.method == "salun"]
        assert salun.cfg == expected.salun
    assert plan.recipe("class:3").salun != plan.recipe("random:0.1").salun  # tuned apart
    # random and class share the original model; noisy trains its own (other labels, width 48)
    keys = {sc: plan.original_path(tmp_path, 0, sc) for sc in cfg.scenarios}
    assert keys["random:0.1"] == keys["class:3"] != keys["noisy:0.1"]
    # a recipe given for one scenario replaces only that scenario's
    mine = replace(default_recipe("digits", "class:3"), eval_batch_size=512)
    plan2 = make_plan(replace(cfg, recipes=(("class:3", mine),)))
    assert plan2.recipe("class:3") == mine and plan2.recipe("random:0.1") == plan.recipe("random:0.1")
    with pytest.raises(ValueError, match="recipes given for scenarios \\['class:5'\\]"):
        make_plan(replace(cfg, recipes=(("class:5", mine),)))


def test_noisy_scenario_trains_its_original_on_the_corrupted_labels(tmp_path, monkeypatch):
    seen = []

    def spy_fit(model, train, *, cfg, generator):
        seen.append(train.y.clone())
        return model

    monkeypatch.setattr(tasks, "fit", spy_fit)
    noisy = replace(
        CFG, scenarios=("random:0.1", "noisy:0.1"), methods=("ft",), recipes=(("noisy:0.1", _tiny_recipe()),)
    )
    df = run_experiment(noisy, tmp_path, progress=False)
    assert len(seen) == 2  # two originals: the clean one and the one trained on wrong labels
    split = _split_of(tmp_path, "noisy:0.1")
    clean = _split_of(tmp_path, "random:0.1")
    np.testing.assert_array_equal(split.forget, clean.forget)
    assert (seen[0] != seen[1]).sum() == len(split.forget)
    assert set(df.scenario) == {"random:0.1", "noisy:0.1"}
    assert len(list((tmp_path / "originals" / "digits").glob("seed0-*/model.pt"))) == 2
