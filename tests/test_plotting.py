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
            rows.append({"x": x, "method": model, "metric": "loss", "mean": 10 * x, "ci95": 0.5, "theory": theory})
    return pd.DataFrame(rows)


def test_theory_vs_mc_draws_one_line_and_one_errorbar_series(ax):
    out = draw_theory_vs_mc(
        ax, model="golden", x_mc=[1, 2], mean=[3, 4], ci95=[0.1, 0.2], x_theory=[1, 2], theory=[3, 4]
    )
    assert out is ax
    assert len(ax.containers) == 1  # the error bars
    assert ax.containers[0].lines[0].get_color() == MODEL_COLOURS["golden"]
    assert [line.get_linestyle() for line in ax.get_lines()].count("-") >= 1


def test_sweep_draws_a_line_only_where_there_is_a_closed_form(ax):
    draw_sweep(ax, _table(), x="x", metric="loss", methods=("golden", "original"))
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

    curve = pd.DataFrame(
        {"steps": [0, 10, 100], "original_forgetting_loss": [5.0, 1.0, 0.0], "ft_forgetting_loss": [4.0, 2.0, 0.0]}
    )
    assert draw_early_stopping(ax, curve, golden=4.0) is ax
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [0.5, 10, 100])  # k = 0 drawn at 0.5 on the log axis
    assert [line.get_label() for line in lines] == [
        "original (early-stopped)",
        "FT to convergence",
        "golden (retrained)",
    ]
    assert lines[1].get_zorder() > lines[0].get_zorder()  # FT's markers on top where the two meet
    assert ax.get_xscale() == "log"
    ax.figure.canvas.draw()  # renders the mathtext labels, which fail only when drawn


def test_overview_draws_every_block_to_scale_and_hatches_exactly_the_reset_weights(ax):
    from matplotlib.patches import Rectangle

    from rbmlib.linear_model import BlockSizes
    from rbmlib.plotting import draw_overview

    sizes = BlockSizes(d_f=30, d_o=10, d_r=60, n_f=5, n_r=10)
    assert draw_overview(ax, sizes) is ax
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 13  # 3 blocks, 2 supports, original 1, golden 2, FT 1, RBM 2, FBM 2
    reset = sorted(p.get_width() for p in boxes if p.get_hatch())
    assert reset == [sizes.d_f, sizes.d_f + sizes.d_o]  # RBM resets S_f, FBM S_f and S_o
    assert max(p.get_x() + p.get_width() for p in boxes) == sizes.d
    ax.figure.canvas.draw()


def test_loss_paths_draw_round_off_on_the_floor_of_the_log_axis(ax):
    from rbmlib.plotting import draw_loss_paths

    paths = pd.DataFrame(
        {
            "run": "r",
            "stage": ["train"] * 3 + ["fine-tune"] * 3,
            "data": "forgetting",
            "step": [0, 1, 2, 3, 4, 5],
            "loss": [1.0, 1e-5, 1e-31, 0.0, 0.0, 0.0],
        }
    )
    draw_loss_paths(ax, paths, floor=1e-12)
    lines = [line for line in ax.get_lines() if len(line.get_ydata()) == 6]
    assert len(lines) == 1  # one line per data set, across both stages
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 1e-5, 1e-12, 1e-12, 1e-12, 1e-12])
    assert ax.get_ylim()[0] < 1e-12 and lines[0].get_linestyle() == "--"  # the forgetting data's style
    (label,) = [t for t in ax.texts if "round-off" in t.get_text()]
    assert label.get_position()[1] < 1e-12 and label.get_va() == "top"  # under the floor line, not on it
    assert ax.get_ylim()[0] < label.get_position()[1]


def test_saliency_marks_exact_zeros_on_the_axis_instead_of_dropping_them(ax):
    from rbmlib.linear_model import BlockSizes
    from rbmlib.plotting import draw_saliency

    sizes = BlockSizes(d_f=2, d_o=1, d_r=2, n_f=1, n_r=1)
    scores = np.array([0.5, 0.2, 0.1, 0.0, 0.0])
    draw_saliency(ax, scores, sizes, data="forgetting")
    on_axis = [line for line in ax.get_lines() if line.get_label().startswith("_") and len(line.get_xdata()) == 2]
    assert len(on_axis) == 1 and list(on_axis[0].get_xdata()) == [3, 4]
    assert "on the axis" in ax.get_xlabel()


def test_saliency_says_nothing_of_zeros_when_there_are_none(ax):
    from rbmlib.linear_model import BlockSizes
    from rbmlib.plotting import draw_saliency

    draw_saliency(ax, np.array([0.5, 0.2, 0.1]), BlockSizes(d_f=1, d_o=1, d_r=1, n_f=1, n_r=1), data="remaining")
    assert ax.get_xlabel() == "coordinate $j$"


# seaborn's heatmap calls Colormap.set_bad, which matplotlib has started to deprecate.
@pytest.mark.filterwarnings("ignore:The set_bad function:PendingDeprecationWarning")
def test_phase_map_never_prints_minus_zero(ax):
    from rbmlib.plotting import draw_phase

    values = pd.DataFrame([[-0.3, 2.6], [0.0, -4.0]], index=[0.0, 0.5], columns=[0.2, 0.8])
    draw_phase(ax, values, label="diff", title="a panel")
    texts = {t.get_text() for t in ax.texts}
    assert texts == {"0", "3", "-4"} and ax.get_title(loc="left") == "a panel"


def test_finetune_paths_draw_the_golden_reference(ax):
    from rbmlib.plotting import draw_finetune_paths

    paths = pd.DataFrame({"method": ["rbm"] * 2 + ["fbm"] * 2, "step": [0, 1] * 2, "loss": [0.0, 0.0, 2.0, 1.0]})
    draw_finetune_paths(ax, paths, golden=0.0)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["RBM", "FBM", "golden (retrained)"] and ax.get_lines()[-1].get_linestyle() == "--"
