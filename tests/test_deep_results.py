"""The tidy result table: pairing with Retrain on the split, consistency checks, reading, summaries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rbmlib.deep.results import (
    COLUMNS,
    check_consistent,
    collect,
    read_cells,
    read_results,
    summarise,
)

RETRAIN = {"ua": 10.0, "ra": 90.0, "ta": 80.0, "mia": 20.0}


def _row(method: str, seed: int, metrics: dict, *, ratio=None, split="s0", scenario="random:0.1", **extra) -> dict:
    return {
        "dataset": "digits", "scenario": scenario, "method": method, "mask_ratio": ratio, "seed": seed,
        **metrics, "rte_s": 2.0 + seed, "n_forget": 10, "n_retain": 90, "n_test": 50, "split_sha256": split, **extra,
    }  # fmt: skip


def test_avg_gap_is_the_mean_absolute_difference_to_the_retrain_of_the_same_split():
    ft = {"ua": 14.0, "ra": 88.0, "ta": 81.0, "mia": 12.0}  # |4| + |-2| + |1| + |-8| = 15 -> 3.75
    df = collect([_row("ft", 0, ft), _row("retrain", 0, RETRAIN), _row("ft", 1, ft, split="s1")])
    gap = df.set_index(["method", "seed"])["avg_gap"]
    assert gap[("ft", 0)] == pytest.approx(3.75) and gap[("retrain", 0)] == 0.0
    # No Retrain on seed 1's split: no reference, no number (a Retrain of another split of the
    # same seed is refused outright, see the next tests).
    assert np.isnan(gap[("ft", 1)])


def test_collect_orders_rows_and_columns():
    rows = [_row(m, s, RETRAIN, ratio=r) for m, r in (("rbm", 0.5), ("ft", None), ("retrain", None), ("salun", 0.3))
            for s in (1, 0)]  # fmt: skip
    df = collect(rows)
    assert list(df.columns) == list(COLUMNS)
    assert df["method"].tolist() == ["retrain"] * 2 + ["ft"] * 2 + ["salun"] * 2 + ["rbm"] * 2
    assert df["seed"].tolist() == [0, 1] * 4
    assert collect([]).columns.tolist() == list(COLUMNS) and collect([]).empty


def test_mixed_splits_and_configurations_are_refused():
    with pytest.raises(ValueError, match="mixed splits: 2 different split hashes for dataset 'digits'"):
        collect([_row("ft", 0, RETRAIN, split="a"), _row("retrain", 0, RETRAIN, split="b")])
    with pytest.raises(ValueError, match="mixed configurations: 2 rows share a cell key"):
        collect([_row("ft", 0, RETRAIN), _row("ft", 0, {**RETRAIN, "ua": 1.0})])
    with pytest.raises(ValueError, match="2 different recipe_sha256 values for ft"):
        collect([_row("ft", 0, RETRAIN, recipe_sha256="r1"), _row("ft", 1, RETRAIN, recipe_sha256="r2")])
    # The same recipe over seeds is one configuration.
    check_consistent(pd.DataFrame([_row("ft", s, RETRAIN, recipe_sha256="r1") for s in (0, 1)]))


def test_read_results_recomputes_avg_gap_from_the_raw_metrics(tmp_path):
    df = collect([_row("ft", 0, {**RETRAIN, "ua": 18.0}), _row("retrain", 0, RETRAIN)])
    written = df.assign(avg_gap=99.0)  # whatever an older version stored
    written.to_csv(tmp_path / "results.csv", index=False)
    back = read_results(tmp_path)
    assert back.set_index("method").loc["ft", "avg_gap"] == pytest.approx(2.0)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_read_results_accepts_the_old_split_hash_name(tmp_path):
    df = collect([_row("ft", 0, RETRAIN), _row("retrain", 0, RETRAIN)]).rename(columns={"split_sha256": "split_hash"})
    df.to_csv(tmp_path / "results.csv", index=False)
    assert read_results(tmp_path)["split_sha256"].tolist() == ["s0", "s0"]


def test_read_results_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match=r"no results table .*results.csv \(run `python -m rbmlib unlearn"):
        read_results(tmp_path)
    collect([_row("ft", 0, RETRAIN)]).drop(columns=["mia"]).to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['mia'\]"):
        read_results(tmp_path)


def test_read_cells_gathers_every_record_below_a_folder(tmp_path):
    for i, sub in enumerate(("a", "b/c")):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "cell.json").write_text(json.dumps({"record": {"seed": i}, "other": 1}))
    assert read_cells(tmp_path) == [{"seed": 0}, {"seed": 1}]


def test_summaries_are_mean_and_sample_std_over_seeds():
    uas = [11.0, 13.0, 18.0]
    df = collect([_row("ft", s, {**RETRAIN, "ua": ua}) for s, ua in enumerate(uas)]
                 + [_row("retrain", s, RETRAIN) for s in range(3)])  # fmt: skip
    ft = summarise(df).set_index("method").loc["ft"]
    assert ft["n_seeds"] == 3 and ft["ua_mean"] == pytest.approx(14.0)
    assert ft["ua_std"] == pytest.approx(np.sqrt(((11 - 14) ** 2 + (13 - 14) ** 2 + (18 - 14) ** 2) / 2))
    assert ft["avg_gap_mean"] == pytest.approx(np.mean([1, 3, 8]) / 4) and ft["rte_s_mean"] == pytest.approx(3.0)
