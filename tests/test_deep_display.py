"""Display strings of the deep result tables (rbmlib.deep.display): mean ± std cells, the command
lines' text table, the book's per-scenario table."""

from __future__ import annotations

import numpy as np

from rbmlib.deep.display import (
    QUALITY_COLUMNS,
    REFERENCE_GAP,
    format_summary,
    run_time_table,
    scenario_table,
    summary_text,
    tuning_text,
)
from rbmlib.deep.results import collect, summarise
from rbmlib.presentation import label

RETRAIN = {"ua": 10.0, "ra": 90.0, "ta": 80.0, "mia": 20.0}


def _row(method: str, seed: int, metrics: dict, *, ratio=None, scenario="random:0.1") -> dict:
    return {
        "dataset": "digits", "scenario": scenario, "method": method, "mask_ratio": ratio, "seed": seed,
        **metrics, "rte_s": 2.0 + seed, "n_forget": 10, "n_retain": 90, "n_test": 50, "split_sha256": "s0",
    }  # fmt: skip


def _summary():
    return summarise(
        collect(
            [_row("ft", s, {**RETRAIN, "ua": 10.0 + 2 * s}) for s in range(2)]
            + [_row("rbm_reset", 0, RETRAIN, ratio=0.5)]
        )
    )


def test_display_tables_read_mean_plus_minus_std():
    summary = _summary()
    shown = format_summary(summary, digits=2).set_index("method")
    assert shown.loc["ft", "ua"] == f"11.00 ± {np.sqrt(2):.2f}"
    assert shown.loc["rbm_reset", "ua"] == "10.00 ± 0.00"  # one seed: no spread to show
    assert shown.loc["rbm_reset", "avg_gap"] == "n/a"  # no Retrain run: no Avg. Gap
    assert shown.loc["rbm_reset", "mask_ratio"] == 0.5  # identifying columns stay numbers
    table = scenario_table(summary, "random:0.1", labels={"ft": "FT", "rbm_reset": "RBM reset"})
    assert list(table.columns) == ["UA", "RA", "TA", "MIA", "Avg. Gap", "RTE (s)"]
    assert table.index.name == "method" and list(table.index) == ["FT", "RBM reset"]
    assert scenario_table(summary, "class:3").empty


def test_scenario_table_names_methods_by_the_registry_unless_told_otherwise():
    table = scenario_table(_summary(), "random:0.1", labels={"ft": "fine-tuning"})
    assert list(table.index) == ["fine-tuning", label("rbm_reset")] and label("rbm_reset") != "rbm_reset"


def test_the_text_table_keeps_the_csv_names_and_one_line_per_row():
    text = summary_text(_summary()).splitlines()
    assert text[0].split() == [
        "dataset",
        "scenario",
        "method",
        "mask_ratio",
        "ua",
        "ra",
        "ta",
        "mia",
        "avg_gap",
        "rte_s",
    ]
    assert set(text[1]) == {"-", " "} and len(text) == 2 + 2
    assert "rbm_reset" in text[3] and "10.0 ± 0.0" in text[3] and "n/a" in text[3]


def test_the_book_table_marks_retrains_gap_as_the_reference_and_reads_run_time_to_its_spread():
    rows = [_row("retrain", s, RETRAIN) for s in range(3)]
    rows += [
        {**_row("rbm", s, {**RETRAIN, "ua": 12.0}, ratio=0.5), "rte_s": t} for s, t in enumerate((0.70, 0.74, 0.72))
    ]
    summary = summarise(collect(rows))
    table = scenario_table(summary, "random:0.1")
    assert table.loc["Retrain", "Avg. Gap"] == REFERENCE_GAP  # 0 by definition, not "0.0 ± 0.0"
    assert table.loc["RBM", "Avg. Gap"] == "0.5 ± 0.0"
    assert table.loc["RBM", "RTE (s)"] == "0.72 ± 0.02"  # the spread's first digit is kept
    quality = scenario_table(summary, "random:0.1", columns=QUALITY_COLUMNS)
    assert list(quality.columns) == ["UA", "RA", "TA", "MIA", "Avg. Gap"]
    rte = run_time_table(summary, ["random:0.1", "class:3"])
    assert list(rte.columns) == ["random 10\u00a0%", 'class "3"'] and list(rte.index) == ["Retrain", "RBM"]
    assert rte.loc["RBM", "random 10\u00a0%"] == "0.72 ± 0.02" and rte.loc["RBM", 'class "3"'] == "—"


def test_tuned_values_read_with_parameter_names():
    assert tuning_text({"lr": 0.005, "ratio": 0.3}, "tuned on random 10 %") == (
        "learning rate 0.005, mask ratio 0.3 (tuned on random 10 %)"
    )
