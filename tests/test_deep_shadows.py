"""Shadow models and ``unlearn --audit``: columns, reuse across methods and reruns, bad input."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rbmlib.deep import shadows
from rbmlib.deep.artifacts import file_sha256
from rbmlib.deep.cli import add_unlearn_parser
from rbmlib.deep.shadows import AUDIT_COLUMNS, AuditConfig, merge_audit_columns

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: The issue's done-when grid.
GRID = [
    "unlearn",
    "--dataset",
    "digits",
    "--scenario",
    "class:3",
    "--methods",
    "retrain,ft,salun,rbm",
    "--seeds",
    "0",
    "--threads",
    "1",
    "--no-progress",
]


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rbmlib")
    add_unlearn_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    """The done-when command, run once: digits, class 3, U-LiRA with 4 shadows."""
    import torch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("audit") / "out"
    assert _main(GRID + ["--audit", "ulira", "--shadows", "4", "--out", str(out)]) == 0
    return out


def _count_training(monkeypatch) -> list[int]:
    calls: list[int] = []
    real_fit, real_methods = shadows.fit, dict(shadows.METHODS)
    monkeypatch.setattr(shadows, "fit", lambda *a, **k: calls.append(1) or real_fit(*a, **k))
    for name, fn in real_methods.items():
        monkeypatch.setitem(shadows.METHODS, name, lambda *a, _fn=fn, **k: calls.append(1) or _fn(*a, **k))
    return calls


def test_every_shadow_repeats_the_targets_experiment(tmp_path, monkeypatch):
    # The audit asks whether a model was unlearned from an original trained on D with the request
    # (D_r, D_f), or retrained on D_r. Shadows that train on half of D and unlearn half of a class
    # answer another question (their RBM kept the forgotten class, the target's did not, and
    # U-LiRA fell below 1/2 on mnist5k class:3): every shadow run must get the target's sets.
    from rbmlib.deep import ExperimentConfig
    from rbmlib.deep.planning import make_plan

    split = make_plan(ExperimentConfig(dataset="digits", scenarios=("class:3",), methods=("retrain", "ft"))).splits[
        ("class:3", 0)
    ]
    argv = [a if a != "retrain,ft,salun,rbm" else "retrain,ft" for a in GRID] + ["--out", str(tmp_path / "out")]
    assert _main(argv) == 0  # the grid first: only the audit's own runs are recorded below
    sizes: list[tuple[str, int, int]] = []
    real_fit, real_methods = shadows.fit, dict(shadows.METHODS)
    monkeypatch.setattr(
        shadows, "fit", lambda m, data, **k: sizes.append(("original", len(data.y), -1)) or real_fit(m, data, **k)
    )
    for name in ("retrain", "ft"):
        fn = real_methods[name]

        def spy(model, retain, forget, _fn=fn, _name=name, **k):
            assert bool((forget.y == 3).all()) and not bool((retain.y == 3).any())
            sizes.append((_name, len(retain.y), len(forget.y)))
            return _fn(model, retain, forget, **k)

        monkeypatch.setitem(shadows.METHODS, name, spy)
    assert _main(argv + ["--audit", "ulira", "--shadows", "2"]) == 0
    n_f, n_r = len(split.forget), len(split.retain)
    assert sorted(sizes) == sorted(
        [("original", len(split.train), -1)] * 2 + [("retrain", n_r, n_f)] * 2 + [("ft", n_r, n_f)] * 2
    )


def test_done_when_command_writes_the_audit_columns(audited):
    t = pd.read_csv(audited / "results.csv")
    assert list(AUDIT_COLUMNS["ulira"]) == [c for c in t.columns if c.startswith("ulira_")]
    rows = t.set_index("method")
    assert rows.loc["retrain", list(AUDIT_COLUMNS["ulira"])].isna().all()  # the reference itself
    for m in ("ft", "salun", "rbm"):
        auc, tpr1, tpr5, k = rows.loc[m, list(AUDIT_COLUMNS["ulira"])]
        assert 0.0 <= tpr1 <= tpr5 <= 1.0 and 0.0 <= auc <= 1.0 and k == 4
    audits = sorted((audited / "audits").rglob("*.json"))
    assert len(audits) == 3  # one file per audited cell, with the per-example scores
    cal = json.loads(audits[0].read_text())["calibration"]  # where the targets sit among the shadows
    assert set(cal) == {"unlearned", "retrained"}
    assert all(len(c["shadows"]) == 4 and np.isfinite([c["target"], *c["shadows"]]).all() for c in cal.values())


def test_rerun_and_other_attack_reuse_every_shadow(audited, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(audited, out)
    calls = _count_training(monkeypatch)
    before = file_sha256(out / "results.csv")
    assert _main(GRID + ["--audit", "ulira", "--shadows", "4", "--out", str(out)]) == 0
    assert calls == [] and file_sha256(out / "results.csv") == before
    # RMIA's references are the retrained shadows U-LiRA trained: no training either, and both
    # audits' columns now sit in one row per cell.
    assert _main(GRID + ["--audit", "rmia", "--shadows", "4", "--out", str(out)]) == 0
    assert calls == []
    t = pd.read_csv(out / "results.csv")
    assert len(t) == 4 and t.loc[t.method == "ft", ["ulira_auc", "rmia_auc"]].notna().all(axis=None)


def test_more_shadows_reuse_the_first_ones(audited, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(audited, out)
    calls = _count_training(monkeypatch)
    assert _main(GRID + ["--methods", "retrain,ft", "--audit", "ulira", "--shadows", "6", "--out", str(out)]) == 0
    # Two new shadows: each an original, a retrain and an FT run; the first four are reused.
    assert len(calls) == 2 * 3
    t = pd.read_csv(out / "results.csv")
    assert t.loc[t.method == "ft", "ulira_shadows"].item() == 6  # the better estimate is kept
    assert t.loc[t.method == "salun", "ulira_shadows"].item() == 4


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--audit", "ulira", "--shadows", "1"], "--shadows must be an integer >= 2"),
        (["--audit", "lira2"], "unknown audit 'lira2'"),
        (["--shadows", "4"], "--shadows 4 needs --audit"),
        (["--methods", "ft,salun", "--audit", "rmia"], "needs retrain in --methods"),
        (["--scenario", "noisy:0.1", "--audit", "ulira"], "does not support noisy:0.1 yet"),
    ],
)
def test_bad_audit_input_exits_2_with_one_error_line_and_writes_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    assert _main(GRID + flags + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


@pytest.mark.parametrize("failure", ["raises", "diverges"])
def test_failing_shadow_runs_are_one_error_line_and_no_table(audited, tmp_path, capsys, monkeypatch, failure):
    import torch

    out = tmp_path / "out"
    shutil.copytree(audited, out)
    for kind in ("shadows", "audits"):  # FT's shadows (and so its audit) must be remade
        shutil.rmtree(out / kind / "digits" / "class-3" / "ft")
    before = file_sha256(out / "results.csv")

    def broken(model, retain, forget, **kw):
        if failure == "raises":
            raise RuntimeError("loss is NaN")
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float("nan"))
        return model

    monkeypatch.setitem(shadows.METHODS, "ft", broken)  # the stored FT cell itself is not rerun
    assert _main(GRID + ["--audit", "ulira", "--shadows", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: shadow run ft k=")
    assert file_sha256(out / "results.csv") == before
    assert not (out / "shadows" / "digits" / "class-3" / "ft").exists() or not any(
        (out / "shadows" / "digits" / "class-3" / "ft").rglob("stats.npz")
    )


def test_audit_config_validates_its_fields():
    with pytest.raises(ValueError, match="variant"):
        AuditConfig("ulira", variant="sideways")
    with pytest.raises(ValueError, match="rmia_a"):
        AuditConfig("rmia", rmia_a=1.5)
    assert AuditConfig("rmia").shadows == 4


def test_merge_keeps_each_cells_audit_from_the_run_with_most_shadows():
    df = pd.DataFrame(
        {
            "config_sha256": ["a", "a", "a", "b"],
            "ulira_auc": [np.nan, 0.7, 0.9, np.nan],
            "ulira_tpr1": [np.nan, 0.1, 0.2, np.nan],
            "ulira_tpr5": [np.nan, 0.3, 0.4, np.nan],
            "ulira_shadows": [np.nan, 4, 8, np.nan],
        }
    )
    merged = merge_audit_columns(df)
    assert merged["ulira_auc"].tolist()[:3] == [0.9, 0.9, 0.9] and np.isnan(merged["ulira_auc"].iloc[3])


def test_report_shows_the_audit_beside_mia_efficacy(audited, tmp_path, capsys):
    from rbmlib.deep.commands import report, run_report

    out = tmp_path / "out"
    shutil.copytree(audited, out)
    seed1 = [a if a != "0" else "1" for a in GRID]  # the second seed the report needs
    assert _main(seed1 + ["--audit", "ulira", "--out", str(out)]) == 0
    rep = report(out, n_boot=200)
    rows = {r["method"]: r for r in rep["audit"]}
    assert set(rows) == {"ft", "salun", "rbm"}  # Retrain is the reference, not audited
    t = pd.read_csv(out / "results.csv")
    ft = t[t.method == "ft"]
    assert rows["ft"]["ulira_auc_mean"] == pytest.approx(ft["ulira_auc"].mean())
    assert rows["ft"]["mia_mean"] == pytest.approx(ft["mia"].mean())
    capsys.readouterr()
    assert run_report(argparse.Namespace(results=str(out), json=False, ratio=None, bootstrap_seed=0, n_boot=200)) == 0
    text = capsys.readouterr().out
    assert "membership audits beside MIA-efficacy" in text and "ulira_auc" in text
