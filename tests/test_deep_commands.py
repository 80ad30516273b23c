"""The ``report`` and ``tune`` subcommands (rbmlib.deep.commands): the issue's end-to-end run and bad input."""

from __future__ import annotations

import json

import pytest

from rbmlib.cli import main
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.runner import ExperimentConfig, run_experiment
from rbmlib.deep.training import SGDConfig
from rbmlib.deep.tune import TuneConfig, tune

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_recipe():
    from dataclasses import replace

    r = default_recipe("digits")
    short = SGDConfig(epochs=2, lr=0.03, batch_size=128)
    return replace(r, original=short, retrain=replace(r.retrain, sgd=short))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    cfg = ExperimentConfig(
        dataset="digits",
        scenarios=("random:0.1",),
        methods=("retrain", "salun", "rbm", "random"),
        seeds=(0, 1, 2),
        recipe=_tiny_recipe(),
        threads=1,
    )
    run_experiment(cfg, out, progress=False)
    return out


def test_report_json_prints_paired_comparisons_and_a_verdict(results, capsys):
    assert main(["report", str(results), "--json", "--n-boot", "500"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert {"summary", "comparisons", "verdict"} <= set(rep)
    keys = {(c["method"], c["baseline"]) for c in rep["comparisons"]}
    assert {("rbm", "salun"), ("salun", "random"), ("rbm", "random")} <= keys
    row = next(c for c in rep["comparisons"] if c["metric"] == "avg_gap")
    assert set(row) >= {"scenario", "method", "baseline", "metric", "diff", "ci_low", "ci_high"}
    assert row["ci_low"] <= row["diff"] <= row["ci_high"] and row["n"] == 3
    assert rep["verdict"]["verdict"] in ("holds", "holds under stated conditions", "trade-off", "inconclusive", "fails")


def test_report_table_mode_and_reproducibility(results, capsys):
    assert main(["report", str(results), "--n-boot", "500"]) == 0
    first = capsys.readouterr().out
    assert "paired differences" in first and "C7:" in first
    main(["report", str(results), "--n-boot", "500"])
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ratio", "1.5"], "ratio must be in (0, 1]"),
        (["--ratio", "0"], "ratio must be in (0, 1]"),
        (["--n-boot", "5"], "n-boot"),
    ],
)
def test_report_bad_input_is_one_error_line(results, capsys, argv, message):
    assert main(["report", str(results), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_report_refuses_one_seed_and_mixed_splits(results, tmp_path, capsys):
    import pandas as pd

    table = pd.read_csv(results / "results.csv")
    (tmp_path / "one").mkdir()
    table[table["seed"] == 0].to_csv(tmp_path / "one" / "results.csv", index=False)
    assert main(["report", str(tmp_path / "one")]) == 2
    assert "at least 2 seeds" in capsys.readouterr().err
    mixed = table.copy()
    mixed.loc[mixed["method"] == "rbm", "split_sha256"] = "another-split"
    (tmp_path / "mixed").mkdir()
    mixed.to_csv(tmp_path / "mixed" / "results.csv", index=False)
    assert main(["report", str(tmp_path / "mixed")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mixed splits" in err[0]


def test_unlearn_rejects_an_unknown_method_and_a_bad_ratio(tmp_path, capsys):
    assert main(["unlearn", "--dataset", "digits", "--methods", "rbm_fancy", "--out", str(tmp_path / "x")]) == 2
    assert "unknown method 'rbm_fancy'" in capsys.readouterr().err
    assert main(["unlearn", "--dataset", "digits", "--methods", "random:1.2", "--out", str(tmp_path / "x")]) == 2
    assert "(0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_tune_widens_an_edge_optimum_and_reports_the_choice():
    recipe = _tiny_recipe()
    cfg = TuneConfig(dataset="digits", methods=("rl",), seeds=(10, 11), lrs=(1e-5, 2e-5), max_widen=1)
    res = tune(cfg, recipe=recipe)["methods"]["rl"]
    assert res["widened"] == 1 and len(res["grid"]) == 3  # the edge optimum added one lr
    assert res["lr"] in [p["lr"] for p in res["grid"]]
    assert res["avg_gap"] == min(p["avg_gap"] for p in res["grid"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "retrain"], "cannot tune method 'retrain'"),
        (["--methods", "rbm", "--ratios", "0"], "mask ratios must be in (0, 1]"),
        (["--methods", "rbm", "--lrs", "0.1", "0.01"], "increasing"),
        (["--methods", "rbm", "--seeds", "1", "1"], "distinct"),
    ],
)
def test_tune_bad_input_is_one_error_line(tmp_path, capsys, argv, message):
    assert main(["tune", "--dataset", "digits", *argv, "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]
    assert not (tmp_path / "t").exists()


def test_tune_command_writes_one_file_per_method_with_its_command(tmp_path, capsys, monkeypatch):
    import rbmlib.deep.tune as tune_module

    monkeypatch.setattr(tune_module, "default_recipe", lambda dataset, scenario=None: _tiny_recipe())
    out = tmp_path / "t"
    argv = [
        "tune",
        "--dataset",
        "digits",
        "--methods",
        "rl",
        "--lrs",
        "0.001",
        "0.01",
        "--max-widen",
        "0",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    chosen = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "tune-digits-rl.json").read_text())
    assert saved["methods"]["rl"]["lr"] == chosen["rl"]["lr"] in (0.001, 0.01)
    assert (
        saved["command"].startswith("python -m rbmlib tune --dataset digits") and "--lrs 0.001 0.01" in saved["command"]
    )


def test_claims_reads_c7_from_a_results_folder(results, capsys):
    from rbmlib.cli import main as cli_main

    assert cli_main(["claims", "--json", "--deep", str(results)]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["C7"]["verdict"] in ("holds", "holds under stated conditions", "trade-off", "inconclusive", "fails")
    assert rows["C7"]["chapter"] == "Ch. 6" and rows["C7"]["evidence"]
