"""Tests of rbmlib.linear_model: the block model, the interpolating fits, the losses (Chapter 1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.linear_model import (
    BlockSizes,
    LinearInstance,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    interpolate,
    mse,
    remaining_loss,
    row_space_projector,
    sample_instance,
    sample_instances,
)
from tests.strategies import block_sizes

SMALL = BlockSizes(d_f=12, d_o=5, d_r=15, n_f=6, n_r=9)


def test_inputs_live_on_their_supports(rng):
    inst = sample_instance(SMALL, rng=rng)
    retain_only = slice(SMALL.d_f + SMALL.d_o, SMALL.d)
    assert np.all(inst.X_f[:, retain_only] == 0)
    assert np.all(inst.X_r[:, : SMALL.d_f] == 0)
    assert np.all(inst.X_f[:, SMALL.forget_support] != 0)
    assert np.all(inst.X_r[:, SMALL.retain_support] != 0)


def test_noiseless_labels_are_linear_in_the_teacher(rng):
    inst = sample_instance(SMALL, rng=rng)
    np.testing.assert_allclose(inst.y_f, inst.X_f @ inst.w_star, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(inst.y_r, inst.X_r @ inst.w_star, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(("noise", "leak"), [(0.0, 0.0), (0.4, 0.0), (0.0, 0.2), (0.4, 0.2)])
def test_the_sampler_consumes_the_generator_in_the_documented_order(noise, leak):
    # The oracle: teacher, forgetting inputs on S_f u S_o, remaining inputs on S_o u S_r, the noise
    # vectors (only with noise), the leak blocks (only with a leak), drawn by hand from one generator.
    g = np.random.default_rng(21)
    s = SMALL
    w_star = g.standard_normal(s.d)
    F, R = g.standard_normal((s.n_f, s.d_f + s.d_o)), g.standard_normal((s.n_r, s.d_o + s.d_r))
    eps_f, eps_r = (g.standard_normal(s.n_f), g.standard_normal(s.n_r)) if noise > 0 else (0.0, 0.0)
    X_f, X_r = np.zeros((s.n_f, s.d)), np.zeros((s.n_r, s.d))
    X_f[:, s.forget_support], X_r[:, s.retain_support] = F, R
    if leak > 0:
        X_f[:, s.d_f + s.d_o :] = leak * g.standard_normal((s.n_f, s.d_r))
        X_r[:, : s.d_f] = leak * g.standard_normal((s.n_r, s.d_f))
    inst = sample_instance(s, rng=np.random.default_rng(21), noise=noise, leak=leak)
    for name, expected in (("w_star", w_star), ("X_f", X_f), ("X_r", X_r)):
        np.testing.assert_array_equal(getattr(inst, name), expected)
    np.testing.assert_allclose(inst.y_f, X_f @ w_star + noise * eps_f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inst.y_r, X_r @ w_star + noise * eps_r, rtol=1e-12, atol=1e-12)
    assert (inst.noise, inst.leak) == (noise, leak)


def test_teacher_scales_scale_the_dense_teacher_and_change_no_stream():
    scales = (2.0, 0.0, 0.5)
    plain = sample_instance(SMALL, rng=np.random.default_rng(5))
    scaled = sample_instance(SMALL, rng=np.random.default_rng(5), teacher_scales=scales)
    np.testing.assert_array_equal(scaled.w_star, plain.w_star * np.repeat(scales, [SMALL.d_f, SMALL.d_o, SMALL.d_r]))
    np.testing.assert_array_equal(scaled.X_f, plain.X_f)
    np.testing.assert_allclose(scaled.y_r, scaled.X_r @ scaled.w_star, rtol=1e-13, atol=1e-13)


def test_block_masks_partition_the_coordinates():
    masks = [SMALL.block_mask(b) for b in ("forget", "shared", "retain")]
    np.testing.assert_array_equal(np.sum(masks, axis=0), np.ones(SMALL.d, dtype=int))
    assert [m.sum() for m in masks] == [SMALL.d_f, SMALL.d_o, SMALL.d_r]


def test_same_seed_gives_the_same_instance():
    a = sample_instance(SMALL, rng=np.random.default_rng(7), noise=0.3)
    b = sample_instance(SMALL, rng=np.random.default_rng(7), noise=0.3)
    for field in ("X_f", "y_f", "X_r", "y_r", "w_star"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@settings(max_examples=40, deadline=None)
@given(sizes=block_sizes(), seed=st.integers(0, 2**32 - 1))
def test_golden_is_the_projection_of_the_teacher(sizes, seed):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed))
    fits = fit_models(inst)
    np.testing.assert_allclose(
        fits.w_g, row_space_projector(inst.X_r) @ inst.w_star, atol=1e-9 * (1 + np.linalg.norm(inst.w_star))
    )
    assert np.all(fits.w_g[: sizes.d_f] == 0)  # X_r has exact zeros on S_f


def test_interpolate_is_the_nearest_interpolator(rng):
    X = rng.standard_normal((5, 11))
    y = rng.standard_normal(5)
    w0 = rng.standard_normal(11)
    w = interpolate(w0, X, y)
    np.testing.assert_allclose(X @ w, y, atol=1e-12)
    # Any other interpolator w + k (k in ker X) is farther from w0.
    k = (np.eye(11) - row_space_projector(X)) @ rng.standard_normal(11)
    assert np.linalg.norm(w + k - w0) > np.linalg.norm(w - w0)
    np.testing.assert_allclose(w - w0, row_space_projector(X) @ (w - w0), atol=1e-12)


def test_projector_is_symmetric_idempotent_with_rank_n(rng):
    X = rng.standard_normal((4, 9))
    P = row_space_projector(X)
    np.testing.assert_allclose(P, P.T, atol=1e-14)
    np.testing.assert_allclose(P @ P, P, atol=1e-13)
    assert np.isclose(np.trace(P), 4)


def test_batched_fits_equal_single_fits():
    batch = sample_instances(SMALL, 5, rng=np.random.default_rng(3), noise=0.2)
    fits = fit_models(batch)
    for i in range(5):
        one = LinearInstance(batch.X_f[i], batch.y_f[i], batch.X_r[i], batch.y_r[i], batch.w_star[i], SMALL, 0.2)
        single = fit_models(one)
        for name in ("w_o", "w_g", "w_t"):
            np.testing.assert_allclose(getattr(fits, name)[i], getattr(single, name), rtol=1e-12, atol=1e-12)


def test_sample_instances_draw_i_comes_from_child_i():
    batch = sample_instances(SMALL, 4, rng=np.random.default_rng(11))
    child = np.random.default_rng(11).spawn(4)[2]
    np.testing.assert_array_equal(batch.w_star[2], sample_instance(SMALL, rng=child).w_star)


def test_losses_are_mean_squared_errors(rng):
    inst = sample_instance(SMALL, rng=rng)
    w = rng.standard_normal(SMALL.d)
    assert np.isclose(forgetting_loss(w, inst), np.mean((inst.X_f @ w - inst.y_f) ** 2))
    assert np.isclose(remaining_loss(w, inst), np.mean((inst.X_r @ w - inst.y_r) ** 2))
    diff = (w - inst.w_star)[SMALL.d_f :]
    assert np.isclose(fresh_remaining_loss(w, inst), diff @ diff)


def test_fresh_remaining_loss_matches_monte_carlo_over_new_inputs(rng):
    inst = sample_instance(SMALL, rng=rng)
    w = fit_models(inst).w_g
    x = np.zeros((200_000, SMALL.d))
    x[:, SMALL.retain_support] = rng.standard_normal((200_000, SMALL.d_o + SMALL.d_r))
    errors = (x @ (w - inst.w_star)) ** 2
    se = errors.std() / np.sqrt(errors.size)
    assert abs(errors.mean() - fresh_remaining_loss(w, inst)) < 4 * se


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((10, 5, 10, 16, 5), "n_f > d_f + d_o (16 > 10 + 5)"),
        ((10, 5, 10, 5, 16), "n_r > d_o + d_r (16 > 5 + 10)"),
        ((4, 4, 4, 8, 8), "n_f + n_r > d (8 + 8 > 12)"),
        ((-1, 5, 10, 2, 2), "d_f must be >= 0, got -1"),
        ((3, 5, 10, 0, 2), "n_f must be >= 1, got 0"),
        ((3, 5.0, 10, 1, 2), "d_o must be an integer"),
    ],
)
def test_block_sizes_reject_settings_outside_the_model(sizes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        BlockSizes(*sizes)


def test_rank_deficient_design_is_rejected_with_its_rank():
    X = np.ones((3, 6))
    with pytest.raises(ValueError, match=r"rank-deficient: rank 1 < n = 3"):
        interpolate(np.zeros(6), X, np.ones(3))


@pytest.mark.parametrize(
    ("w0", "X", "y", "message"),
    [
        (np.zeros(5), np.ones((2, 4)), np.ones(2), "w_init has last dimension 5, X has d = 4"),
        (np.zeros(4), np.ones((2, 4)), np.ones(3), "y has length 3, X has n = 2 rows"),
        (np.zeros(2), np.ones((4, 2)), np.ones(4), "cannot interpolate: n = 4 rows > d = 2"),
        (np.zeros(4), np.full((2, 4), np.nan), np.ones(2), "X must be finite, got 8 NaN or infinite entries"),
    ],
)
def test_interpolate_rejects_bad_input(w0, X, y, message):
    with pytest.raises(ValueError, match=message):
        interpolate(w0, X, y)


def test_negative_noise_is_rejected(rng):
    with pytest.raises(ValueError, match="noise must be finite and >= 0, got -0.1"):
        sample_instance(SMALL, rng=rng, noise=-0.1)


def test_mse_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes do not match"):
        mse(np.zeros(3), np.zeros((2, 4)), np.zeros(2))
