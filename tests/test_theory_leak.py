"""Proposition 5.2 (small leak) and the phase-grid theory helpers of Chapter 5."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.experiments import MaskConfig, PhaseGrid, phase_grid, simulate_methods
from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig
from rbmlib.theory import (
    compare_theory,
    leak_boundary_ratios,
    phase_theory,
    small_leak_losses,
    theory_bias,
    theory_phase_difference,
    theory_table,
)
from tests.strategies import block_sizes

SWEEP = BlockSizes(60, 20, 80, 20, 40)
N_SE = 4.0


@settings(max_examples=80, deadline=None)
@given(sizes=block_sizes(min_block=1, max_block=30), method=st.sampled_from(["rbm", "fbm"]))
def test_boundary_ratios_free_block_unions_and_give_the_table_values(sizes, method):
    ratios = leak_boundary_ratios(sizes, method)
    assert ratios[-1] == 1.0 and list(ratios) == sorted(ratios)
    first = sizes.d_f if method == "rbm" else sizes.d_f + sizes.d_o
    assert (first / sizes.d in ratios) == (0 < first < sizes.d)
    table = theory_table(sizes)
    for ratio in ratios:
        model = "golden" if ratio == 1.0 else method
        assert small_leak_losses(sizes, method=method, ratio=ratio) == {k: c[0] for k, c in table[model].items()}


def test_other_ratios_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="partial-block reset"):
        small_leak_losses(SWEEP, method="rbm", ratio=0.25)
    with pytest.raises(ValueError, match="method must be one of"):
        small_leak_losses(SWEEP, method="ft", ratio=1.0)


def _per_draw(leak: float, ratio: float, draws: int, seed: int) -> dict[str, np.ndarray]:
    cfg = SimulationConfig(SWEEP, draws=draws, seed=seed, leak=leak)
    return simulate_methods(cfg, MaskConfig(ratio=ratio), methods=("rbm", "fbm"))


@pytest.mark.parametrize("method", ["rbm", "fbm"])
def test_the_leak_has_no_first_order_term_at_a_block_ratio(method):
    """Seeded paired Monte Carlo: fit b eps + c eps^2 per draw; the mean b must be 0 within N_SE."""
    ratio = leak_boundary_ratios(SWEEP, method)[0]
    leaks = (0.05, 0.1, 0.2)
    base = _per_draw(0.0, ratio, 120, 7)[method]
    runs = [_per_draw(e, ratio, 120, 7)[method] for e in leaks]
    design = np.column_stack([leaks, np.square(leaks)])
    for metric in ("forgetting_loss", "fresh_remaining_loss"):
        (b, c), *_ = np.linalg.lstsq(design, np.stack([r[metric] - base[metric] for r in runs]), rcond=None)
        se_b, se_c = (np.std(v, ddof=1) / np.sqrt(v.size) for v in (b, c))
        assert abs(b.mean()) < N_SE * se_b, (metric, b.mean(), se_b)
        assert abs(c.mean()) > 2 * se_c, (metric, c.mean(), se_c)  # the check has power: eps^2 is resolved


def test_small_leak_limit_matches_monte_carlo_at_the_block_ratios():
    for method in ("rbm", "fbm"):
        for ratio in leak_boundary_ratios(SWEEP, method):
            theory = small_leak_losses(SWEEP, method=method, ratio=ratio)
            sample = _per_draw(0.01, ratio, 200, 3)[method]
            for metric in ("forgetting_loss", "fresh_remaining_loss"):
                v = sample[metric]
                se = np.std(v, ddof=1) / np.sqrt(v.size)
                assert abs(v.mean() - theory[metric]) <= N_SE * se + 0.05 * theory[metric], (method, ratio, metric)


def test_phase_theory_tables_and_differences():
    grid = PhaseGrid(forget_block=30, d_r=30, n_f=6, overlaps=(0.0, 0.5, 1.0), retain_ratios=(0.3, 0.6))
    frame = phase_theory(grid)
    assert set(frame["method"]) == {"golden", "ft", "rbm", "fbm"} and len(frame) == 3 * 2 * 4 * 3
    diff = theory_phase_difference(frame, "fresh_remaining_loss")
    np.testing.assert_allclose(diff.loc[0.0], 0.0, atol=1e-9)  # distinct features: both are golden
    assert (diff.loc[[0.5, 1.0]] > 0).all().all()  # RBM keeps the shared block on fresh data
    gap = theory_phase_difference(frame, "gap_avg_gap")
    parts = (
        sum(
            theory_phase_difference(frame, f"gap_{m}")
            for m in ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")
        )
        / 3
    )
    pd.testing.assert_frame_equal(gap, parts)
    with pytest.raises(ValueError, match="metric must be a loss"):
        theory_phase_difference(frame, "avg_gap")
    table = phase_grid(grid, draws=30, seed=1)
    errors = compare_theory(table, frame)
    assert (errors["theory"] != 0).all() and np.isfinite(errors["z"]).all()
    bias = theory_bias(errors[errors["kind"] == "deterministic equivalent"])
    assert {"bias", "bias_se", "worst", "worst_z"} <= set(bias.columns) and (bias["bias_se"] > 0).all()
    assert (bias["bias"].abs() <= N_SE * bias["bias_se"] + 0.05).all()


# seaborn's heatmap still calls Colormap.set_bad (a matplotlib pending deprecation), not ours
@pytest.mark.filterwarnings("ignore:The set_bad function:PendingDeprecationWarning")
def test_theory_overlays_draw_on_a_phase_map():
    import matplotlib.pyplot as plt

    from rbmlib.plotting import draw_phase, draw_phase_theory, draw_sweep_theory

    grid = PhaseGrid(forget_block=30, d_r=30, n_f=6, overlaps=(0.0, 0.5, 1.0), retain_ratios=(0.3, 0.6))
    cells = theory_phase_difference(phase_theory(grid), "fresh_remaining_loss")
    fig, ax = plt.subplots()
    draw_phase(ax, cells, label="x")
    before = len(ax.texts)
    draw_phase_theory(ax, cells, cells)
    assert len(ax.texts) == before + cells.size  # one theory value per cell
    assert len(ax.patches) == 1  # the tied overlap-0 row is framed
    flipped = cells.copy()
    flipped.loc[1.0] = -flipped.loc[1.0]  # a sign change: the zero level is drawn
    fig2, ax2 = plt.subplots()
    draw_phase(ax2, flipped, label="x")
    draw_phase_theory(ax2, flipped, flipped)
    assert len(ax2.collections) > len(ax.collections)
    draw_sweep_theory(ax, {"rbm": [(0.5, 1.0)], "fbm": []})
    assert ax.get_legend_handles_labels()[1][-1].startswith("RBM (theory")
    plt.close(fig)
    plt.close(fig2)
