"""Tests of rbmlib.experiments: the masking engine, the phase grid and the ratio sweep."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from rbmlib.experiments import (
    LINEAR_METHODS,
    MaskConfig,
    PhaseGrid,
    phase_difference,
    phase_grid,
    ratio_sweep,
    simulate_methods,
    with_theory,
)
from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig, simulate

SIZES = BlockSizes(d_f=12, d_o=6, d_r=14, n_f=4, n_r=8)
TINY = PhaseGrid(forget_block=16, d_r=16, n_f=4, overlaps=(0.0, 0.5, 1.0), retain_ratios=(0.3, 0.7))


def test_shared_models_agree_with_the_block_engine_on_the_same_draws():
    cfg = SimulationConfig(SIZES, draws=12, seed=4)
    dense, block = simulate_methods(cfg), simulate(cfg)
    for model in ("original", "golden", "ft"):
        np.testing.assert_allclose(
            dense[model]["forgetting_loss"], block[model]["forgetting_loss"], rtol=1e-9, atol=1e-20
        )
        np.testing.assert_allclose(
            dense[model]["fresh_remaining_loss"], block[model]["fresh_remaining_loss"], rtol=1e-9
        )


def test_results_do_not_depend_on_the_batch_size():
    a = simulate_methods(SimulationConfig(SIZES, draws=9, seed=1, batch_size=2), MaskConfig(ratio=0.5))
    b = simulate_methods(SimulationConfig(SIZES, draws=9, seed=1, batch_size=64), MaskConfig(ratio=0.5))
    for model in LINEAR_METHODS:
        np.testing.assert_allclose(a[model]["forgetting_loss"], b[model]["forgetting_loss"], rtol=1e-9, atol=1e-20)


def test_only_the_requested_methods_are_reported():
    out = simulate_methods(SimulationConfig(SIZES, draws=3, seed=0), methods=("golden", "rbm_reset"))
    assert set(out) == {"golden", "rbm_reset"}
    with pytest.raises(ValueError, match=r"unknown linear methods \['salun'\]"):
        simulate_methods(SimulationConfig(SIZES, draws=3, seed=0), methods=("salun",))


def test_mask_ratio_one_frees_every_weight_so_reset_then_ft_is_the_golden_retrain():
    # The field's convention: ratio 1 frees everything. Resetting every weight and fine-tuning is
    # retraining from zero, and the masked update moves every weight (the analogue of RL).
    out = simulate_methods(
        SimulationConfig(SIZES, draws=5, seed=2),
        MaskConfig(ratio=1.0),
        methods=("golden", "rbm", "fbm", "rbm_masked", "fbm_masked"),
    )
    for model in ("rbm", "fbm"):
        np.testing.assert_allclose(out[model]["forgetting_loss"], out["golden"]["forgetting_loss"], rtol=1e-9)
    np.testing.assert_allclose(out["rbm_masked"]["forgetting_loss"], out["fbm_masked"]["forgetting_loss"], rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratio": 0.0}, r"mask ratio \(fraction of weights freed\) must be in \(0, 1\], got 0.0"),
        ({"ratio": 1.2}, r"must be in \(0, 1\], got 1.2"),
        ({"saliency": "random"}, "saliency must be one of"),
    ],
)
def test_mask_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskConfig(**kwargs)


def test_the_leak_is_a_setting_of_the_data_and_is_validated_there():
    with pytest.raises(ValueError, match="leak must be finite and >= 0, got -0.5"):
        SimulationConfig(SIZES, draws=3, leak=-0.5)
    assert "leak" not in {f.name for f in fields(MaskConfig)}


def test_the_masking_engine_draws_what_the_block_engine_draws_with_any_teacher():
    # One sampler: with an anisotropic teacher the unmasked models of the dense (masking) engine
    # equal the block-sparse engine's on the same draws.
    cfg = SimulationConfig(SIZES, draws=4, seed=3, teacher_scales=(1.0, 2.0, 0.5))
    dense, block = simulate_methods(cfg, methods=("original", "golden", "ft")), simulate(cfg)
    for model in ("original", "golden", "ft"):
        np.testing.assert_allclose(
            dense[model]["fresh_remaining_loss"], block[model]["fresh_remaining_loss"], rtol=1e-9
        )
        np.testing.assert_allclose(
            dense[model]["forgetting_loss"], block[model]["forgetting_loss"], rtol=1e-9, atol=1e-20
        )


def test_phase_grid_cells_and_their_sizes():
    assert TINY.sizes(0.5, 0.3) == BlockSizes(8, 8, 16, 4, 7)
    with pytest.raises(ValueError, match="overlap fraction must be in"):
        TINY.sizes(1.5, 0.3)
    with pytest.raises(ValueError, match=r"retain ratio n_r / \(d_o \+ d_r\) must be in"):
        TINY.sizes(0.5, 0.0)


def test_phase_grid_matches_the_closed_forms_and_is_exact_with_distinct_features():
    table = phase_grid(TINY, draws=200, seed=3)
    checked = with_theory(table, lambda row: TINY.sizes(row.overlap, row.retain_ratio))
    assert len(checked) > 0 and np.all(np.abs(checked["z"]) < 4)  # 4 standard errors
    diff = phase_difference(table, "gap_avg_gap")
    np.testing.assert_allclose(diff.loc[0.0], 0.0, atol=1e-8)
    assert diff.shape == (3, 2)
    fresh = phase_difference(table, "fresh_remaining_loss")
    assert np.all(fresh.loc[0.5] > 0)  # RBM keeps the shared weights: lower fresh loss than FBM


def test_ratio_sweep_has_a_row_per_leak_ratio_method_and_metric():
    sweep = ratio_sweep(SIZES, ratios=(0.5, 1.0), leaks=(0.0, 0.2), draws=4, seed=0)
    assert set(sweep["method"]) == {"golden", "ft", "rbm", "fbm"}
    assert len(sweep) == 2 * 2 * 4 * 8  # leaks x ratios x methods x (3 metrics + 4 gaps + recovered fraction)


def test_phase_difference_names_a_missing_metric():
    table = phase_grid(TINY, draws=3, seed=0)
    with pytest.raises(ValueError, match="metric 'accuracy' is not in the table"):
        phase_difference(table, "accuracy")


def test_phase_grid_adds_paired_differences_on_the_same_draws():
    from rbmlib.experiments import PhaseGrid, phase_grid

    grid = PhaseGrid(forget_block=20, d_r=20, n_f=4, overlaps=(0.5,), retain_ratios=(0.5,))
    table = phase_grid(grid, draws=12, seed=0).set_index(["method", "metric"])
    for metric in ("fresh_remaining_loss", "gap_avg_gap"):
        diff = table.loc[("fbm-rbm", metric), "mean"]
        np.testing.assert_allclose(
            diff, table.loc[("fbm", metric), "mean"] - table.loc[("rbm", metric), "mean"], rtol=1e-10
        )
    # Paired: the difference's SE is below the independent bound sqrt(se_a^2 + se_b^2).
    se = table["se"]
    assert se[("fbm-rbm", "fresh_remaining_loss")] < np.hypot(
        se[("fbm", "fresh_remaining_loss")], se[("rbm", "fresh_remaining_loss")]
    )
    assert table.loc[("golden", "recovered_forgetting"), "mean"] == pytest.approx(1.0)
    assert table.loc[("ft", "recovered_forgetting"), "mean"] < 1e-12
