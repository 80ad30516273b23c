"""Tests of rbmlib.simulation: the batched Monte Carlo engine."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.linear_model import BlockSizes, fit_models, forgetting_loss, sample_instances
from rbmlib.simulation import (
    BASE_METHODS,
    METRICS,
    SimulationConfig,
    block_model_weights,
    cell_seeds,
    evaluate,
    evaluate_blocks,
    model_weights,
    sample_block_batch,
    simulate,
    summarise,
    sweep,
    with_cell_seeds,
)

SIZES = BlockSizes(d_f=16, d_o=4, d_r=20, n_f=4, n_r=8)


@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_results_are_bit_for_bit_independent_of_the_batch_size(noise):
    runs = [simulate(SimulationConfig(SIZES, draws=37, seed=5, noise=noise, batch_size=b)) for b in (1, 4, 256)]
    for other in runs[1:]:
        for model in BASE_METHODS:
            for metric in METRICS:
                np.testing.assert_array_equal(other[model][metric], runs[0][model][metric])


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.sampled_from([SIZES, BlockSizes(0, 9, 5, 3, 6), BlockSizes(7, 0, 9, 5, 6), BlockSizes(2, 1, 1, 2, 2)]),
    seed=st.integers(0, 2**32 - 1),
    noise=st.sampled_from([0.0, 0.6]),
)
def test_block_engine_equals_the_dense_reference(sizes, seed, noise):
    batch = sample_block_batch(sizes, np.random.default_rng(seed).spawn(3), noise=noise)
    dense = sample_instances(sizes, 3, rng=np.random.default_rng(seed), noise=noise)
    # labels recomputed densely, over all of d: the support products must agree to round-off
    for X, y, name in ((dense.X_f, batch.y_f, "f"), (dense.X_r, batch.y_r, "r")):
        noiseless = np.einsum("bnd,bd->bn", X, dense.w_star)
        assert np.all(np.abs(y - noiseless) <= noise * 10 + 1e-12), name
    fast, reference = block_model_weights(batch), model_weights(dense)
    scale = 1 + np.abs(reference["original"]).max()
    for model in BASE_METHODS:
        np.testing.assert_allclose(fast[model], reference[model], rtol=0, atol=1e-10 * scale)
    fast_losses, reference_losses = evaluate_blocks(fast, batch), evaluate(reference, dense)
    y_scale = 1 + np.mean(dense.y**2)
    for model in BASE_METHODS:
        for metric in METRICS:
            np.testing.assert_allclose(
                fast_losses[model][metric], reference_losses[model][metric], rtol=1e-8, atol=1e-12 * y_scale
            )  # zeros agree to round-off


def test_teacher_scales_scale_the_teacher_blocks():
    scales = (0.0, 2.0, 0.5)
    plain = sample_block_batch(SIZES, np.random.default_rng(4).spawn(2))
    scaled = sample_block_batch(SIZES, np.random.default_rng(4).spawn(2), teacher_scales=scales)
    factor = np.repeat(scales, [SIZES.d_f, SIZES.d_o, SIZES.d_r])
    np.testing.assert_array_equal(scaled.w_star, plain.w_star * factor)
    np.testing.assert_array_equal(scaled.F, plain.F)


def test_simulation_matches_direct_per_instance_computation():
    cfg = SimulationConfig(SIZES, draws=6, seed=2, noise=0.3)
    samples = simulate(cfg)
    batch = sample_instances(SIZES, 6, rng=np.random.default_rng(2), noise=0.3)
    np.testing.assert_allclose(
        samples["golden"]["forgetting_loss"], forgetting_loss(fit_models(batch).w_g, batch), rtol=1e-12
    )


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    a = simulate(SimulationConfig(SIZES, draws=10, seed=1))
    b = simulate(SimulationConfig(SIZES, draws=10, seed=1))
    c = simulate(SimulationConfig(SIZES, draws=10, seed=2))
    np.testing.assert_array_equal(a["golden"]["forgetting_loss"], b["golden"]["forgetting_loss"])
    assert not np.allclose(a["golden"]["forgetting_loss"], c["golden"]["forgetting_loss"])


def test_summary_is_a_frame_of_mean_and_standard_error_per_method():
    samples = {"m": {"x": np.array([1.0, 2.0, 3.0, 6.0])}, "n": {"x": np.array([0.0, 2.0])}}
    summary = summarise(samples)
    assert list(summary.columns) == ["method", "x_mean", "x_se"]
    assert summary["method"].tolist() == ["m", "n"]
    assert summary["x_mean"].tolist() == [3.0, 1.0]
    assert summary["x_se"].tolist() == pytest.approx([np.std([1, 2, 3, 6], ddof=1) / 2, np.sqrt(2) / np.sqrt(2)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"draws": 1}, "draws must be >= 2"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"noise": -1.0}, "noise must be finite and >= 0, got -1.0"),
        (
            {"teacher_scales": (1.0, -1.0, 1.0)},
            r"teacher_scales must be three finite values >= 0 \(s_f, s_o, s_r\), got \(1.0, -1.0, 1.0\)",
        ),
        ({"teacher_scales": (1.0, 1.0)}, "teacher_scales must be three finite values"),
    ],
)
def test_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig(SIZES, **kwargs)


def test_sweep_tabulates_every_config_model_and_metric_beside_the_theory():
    configs = [SimulationConfig(BlockSizes(16 - d_o, d_o, 20, 4, 8), draws=30, seed=1) for d_o in (0, 8, 16)]
    table = sweep(configs)
    assert len(table) == 3 * len(BASE_METHODS) * len(METRICS)
    assert sorted(table["overlap"].unique()) == [0.0, 0.5, 1.0]
    golden = table[(table["method"] == "golden") & (table["metric"] == "forgetting_loss")]
    np.testing.assert_allclose(golden["theory"], [16.0, 8 + 8 * 20 / 28, 16 * 28 / 36])
    np.testing.assert_allclose(table["ci95"], 1.96 * table["se"])
    original_fresh = table[(table["method"] == "original") & (table["metric"] == "fresh_remaining_loss")]
    # sweep reports exact forms only: the original's fresh loss is exact at d_o = 0, and its
    # deterministic equivalent (Chapter 4) is not tabulated as if it were exact.
    assert original_fresh["theory"].notna().tolist() == [True, False, False]


def test_block_engine_rejects_a_rank_deficient_draw():
    batch = sample_block_batch(SIZES, np.random.default_rng(0).spawn(2))
    R = batch.R.copy()
    R[1, 1] = R[1, 0]  # two identical remaining inputs in draw 1
    broken = type(batch)(batch.F, R, batch.y_f, batch.y_r, batch.w_star, SIZES)
    with pytest.raises(ValueError, match=r"Gram matrix X X\^T of shape \(12, 12\) is numerically rank-deficient"):
        block_model_weights(broken)


@pytest.mark.parametrize("leak", [0.0, 0.3])
def test_support_losses_of_a_leaky_batch_equal_the_dense_losses(leak):
    batch = sample_block_batch(SIZES, np.random.default_rng(8).spawn(3), noise=0.2, leak=leak)
    dense = batch.to_instance()
    weights = model_weights(dense)
    on_supports, reference = evaluate_blocks(weights, batch), evaluate(weights, dense)
    for model in BASE_METHODS:
        for metric in METRICS:
            np.testing.assert_allclose(on_supports[model][metric], reference[model][metric], rtol=1e-10, atol=1e-12)


def test_leaky_batches_are_refused_by_the_block_sparse_fits_and_simulated_densely():
    batch = sample_block_batch(SIZES, np.random.default_rng(0).spawn(2), leak=0.1)
    with pytest.raises(ValueError, match="a leaky batch needs the dense fits"):
        block_model_weights(batch)
    leaky = simulate(SimulationConfig(SIZES, draws=5, seed=4, leak=0.1))
    plain = simulate(SimulationConfig(SIZES, draws=5, seed=4))
    # the leak changes the data (off-support entries), so every model's forgetting loss moves
    assert not np.allclose(leaky["golden"]["forgetting_loss"], plain["golden"]["forgetting_loss"])
    assert np.all(leaky["ft"]["forgetting_loss"] < 1e-20)  # FT still interpolates D (Proposition 1.2)


def test_grid_cells_get_independent_spawned_seeds():
    seeds = cell_seeds(0, 6)
    assert len(set(seeds)) == 6 and seeds != list(range(6))
    assert cell_seeds(1, 6)[:5] != seeds[1:]  # a neighbouring root seed does not shift the same streams
    assert cell_seeds(0, 3) == seeds[:3]


def test_sweep_points_draw_independent_streams():
    base = SimulationConfig(SIZES, draws=4, seed=0)
    configs = with_cell_seeds([base, replace(base, noise=0.5)], seed=9)
    assert [c.seed for c in configs] == cell_seeds(9, 2)
    assert [replace(c, seed=0) for c in configs] == [base, replace(base, noise=0.5)]  # only the seed changes
    a, b = (simulate(c)["golden"]["fresh_remaining_loss"] for c in configs)
    assert not np.any(a == b)
