"""Tests of rbmlib.plotting: the draw functions draw what they are given and return their axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rbmlib.plotting import MODEL_COLOURS, draw_sweep, draw_theory_vs_mc


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _table() -> pd.DataFrame:
    rows = []
    for x in (1.0, 2.0, 3.0):
        for model, theory in (("golden", 10 * x), ("original", np.nan)):
            rows.append({"x": x, "model": model, "metric": "loss", "mean": 10 * x, "ci95": 0.5, "theory": theory})
    return pd.DataFrame(rows)


def test_theory_vs_mc_draws_one_line_and_one_errorbar_series(ax):
    out = draw_theory_vs_mc(ax, model="golden", x_mc=[1, 2], mean=[3, 4], ci95=[0.1, 0.2], x_theory=[1, 2], theory=[3, 4])
    assert out is ax
    assert len(ax.containers) == 1  # the error bars
    assert ax.containers[0].lines[0].get_color() == MODEL_COLOURS["golden"]
    assert [line.get_linestyle() for line in ax.get_lines()].count("-") >= 1


def test_sweep_draws_a_line_only_where_there_is_a_closed_form(ax):
    draw_sweep(ax, _table(), x="x", metric="loss", models=("golden", "original"))
    assert len(ax.containers) == 2  # points for both models
    theory_lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 3 and line.get_linestyle() == "-"]
    assert len(theory_lines) == 1 and theory_lines[0].get_color() == MODEL_COLOURS["golden"]


def test_draw_functions_reject_inconsistent_arguments(ax):
    with pytest.raises(ValueError, match="give both x_theory and theory"):
        draw_theory_vs_mc(ax, model="ft", x_mc=[1], mean=[1], ci95=[0], x_theory=[1])
    with pytest.raises(ValueError, match="a custom label needs exactly one model"):
        draw_sweep(ax, _table(), x="x", metric="loss", label="both")


def test_early_stopping_draws_ft_the_original_and_the_golden_reference(ax):
    from rbmlib.plotting import draw_early_stopping

    curve = pd.DataFrame({"steps": [0, 10, 100], "original_forgetting_loss": [5.0, 1.0, 0.0],
                          "ft_forgetting_loss": [4.0, 2.0, 0.0]})
    assert draw_early_stopping(ax, curve, golden=4.0) is ax
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [0.5, 10, 100])  # k = 0 drawn at 0.5 on the log axis
    assert [line.get_label() for line in lines] == ["FT to convergence", "original (early-stopped)", "golden (retrained)"]
    assert ax.get_xscale() == "log"
    ax.figure.canvas.draw()  # renders the mathtext labels, which fail only when drawn
