"""The book's tables: rounding once, a pipe table for glue, theory beside Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rbmlib.reporting import markdown_table, summary_frame, theory_check_frame

ROWS = pd.DataFrame(
    {
        "method": ["golden", "ft"],
        "forgetting_loss_mean": [186.54, -0.04],
        "forgetting_loss_se": [2.71, 0.049],
        "remaining_loss_mean": [1e-28, 0.25],
        "remaining_loss_se": [2e-30, 0.05],
    }
)  # the layout of rbmlib.simulation.summarise


def test_summary_frame_rounds_each_estimate_once_to_the_given_digits():
    frame = summary_frame(ROWS, digits=1)
    assert frame.index.name == "method" and list(frame.index) == ["golden", "ft"]
    assert list(frame.columns) == ["forgetting_loss", "remaining_loss"]
    assert frame.loc["golden", "forgetting_loss"] == "186.5 ± 2.7"
    # Round-off-level losses print as 0, and a mean that rounds to -0.0 prints without its sign.
    assert frame.loc["golden", "remaining_loss"] == "0.0 ± 0.0"
    assert frame.loc["ft", "forgetting_loss"] == "0.0 ± 0.0"
    assert summary_frame(ROWS, digits=3).loc["ft", "forgetting_loss"] == "-0.040 ± 0.049"
    assert summary_frame(ROWS, digits=0).loc["golden", "forgetting_loss"] == "187 ± 3"


def test_summary_frame_refuses_negative_digits():
    with pytest.raises(ValueError, match="digits must be >= 0, got -1"):
        summary_frame(ROWS, digits=-1)


def test_markdown_table_is_a_pipe_table_with_the_index_first():
    frame = pd.DataFrame({"UA": ["1.0", "2.0"], "RA": ["99", "98"]}, index=pd.Index(["ft", "rbm"], name="method"))
    # Method names become their labels (the one registry); labels=False keeps the raw values.
    assert markdown_table(frame) == ("| method | UA | RA |\n|---|---|---|\n| FT | 1.0 | 99 |\n| RBM | 2.0 | 98 |")
    assert markdown_table(frame, labels=False).splitlines()[2] == "| ft | 1.0 | 99 |"
    unnamed = frame.rename_axis(None)
    assert markdown_table(unnamed).splitlines()[0] == "|  | UA | RA |"  # no pandas "index" header


def test_theory_check_frame_puts_each_formula_beside_its_monte_carlo_mean():
    draws = [1.0, 2.0, 3.0]  # mean 2, sample sd 1, se 1/sqrt(3)
    samples = {"golden": {"forget": draws, "fresh": draws, "zero": [0.0, 0.0, 0.0]}, "fbm": {"forget": draws}}
    table = {
        "golden": {
            "forget": (2.5, "exact", ""),
            "fresh": (2.2, "deterministic equivalent", ""),
            "zero": (0.0, "exact", ""),
        },
        "fbm": {"forget": (None, "none", "no closed form: the mask depends on the draw")},
        "rbm": {"forget": (1.0, "exact", "")},  # no samples: skipped
    }
    frame = theory_check_frame(samples, table).set_index(["method", "metric"])
    assert list(frame.index) == [("golden", "forget"), ("golden", "fresh"), ("golden", "zero"), ("fbm", "forget")]
    se = 1 / math.sqrt(3)
    row = frame.loc[("golden", "forget")]
    assert row["mean"] == pytest.approx(2.0) and row["se"] == pytest.approx(se)
    assert row["z"] == pytest.approx((2.0 - 2.5) / se) and np.isnan(row["rel_error"])
    row = frame.loc[("golden", "fresh")]
    assert row["rel_error"] == pytest.approx(2.2 / 2.0 - 1) and np.isnan(row["z"])
    # An exact zero (identically zero loss) has no z-score: its draws have no spread.
    assert np.isnan(frame.loc[("golden", "zero"), "z"])
    row = frame.loc[("fbm", "forget")]
    assert row["kind"] == "none" and pd.isna(row["theory"]) and np.isnan(row["z"]) and np.isnan(row["rel_error"])
    assert row["reason"] == "no closed form: the mask depends on the draw"
