"""Tests of rbmlib.masks: saliency, mask ratios and the propositions of Chapter 4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.linear_model import (
    BlockSizes,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    remaining_loss,
    sample_instance,
)
from rbmlib.masks import (
    fbm_keep_mask,
    free_fraction,
    gradient,
    masked_update,
    masked_weights,
    rbm_keep_mask,
    reset_then_finetune,
    saliency,
)
from tests.strategies import block_sizes

SIZES = BlockSizes(d_f=14, d_o=6, d_r=16, n_f=5, n_r=10)


def _scale(inst) -> float:
    return 1.0 + float(np.mean(inst.y_f**2) + np.mean(inst.y_r**2))


def test_gradients_vanish_at_the_original_model(rng):
    inst = sample_instance(SIZES, rng=rng)
    w_o = fit_models(inst).w_o
    for X, y in ((inst.X_r, inst.y_r), (inst.X_f, inst.y_f)):
        assert np.abs(gradient(w_o, X, y)).max() < 1e-10 * _scale(inst)


@pytest.mark.parametrize("kind", ["fisher", "init_gradient"])
def test_saliency_supports_are_the_blocks(rng, kind):
    inst = sample_instance(SIZES, rng=rng)
    retain = saliency(inst.X_r, inst.y_r, kind=kind) > 0
    forget = saliency(inst.X_f, inst.y_f, kind=kind) > 0
    np.testing.assert_array_equal(retain, SIZES.block_mask("shared") | SIZES.block_mask("retain"))
    np.testing.assert_array_equal(forget, SIZES.block_mask("forget") | SIZES.block_mask("shared"))


def test_a_leak_makes_every_coordinate_salient(rng):
    inst = sample_instance(SIZES, rng=rng, leak=0.05)
    assert np.all(saliency(inst.X_r, inst.y_r) > 0) and np.all(saliency(inst.X_f, inst.y_f) > 0)
    assert rbm_keep_mask(inst).all()


@settings(max_examples=50, deadline=None)
@given(
    d=st.integers(1, 40),
    ratio=st.floats(0.001, 1.0),
    seed=st.integers(0, 10_000),
    free=st.sampled_from(["most", "least"]),
)
def test_free_fraction_frees_exactly_the_ratio_of_coordinates(d, ratio, seed, free):
    scores = np.random.default_rng(seed).integers(0, 3, size=(2, d)).astype(float)  # many ties
    mask = free_fraction(scores, ratio, free=free)
    k = max(1, round(ratio * d))
    assert mask.dtype == bool and np.all(mask.sum(axis=-1) == k)
    freed, kept = np.where(mask, scores, np.nan), np.where(~mask, scores, np.nan)
    for row in range(2):
        if k < d:
            if free == "most":
                assert np.nanmin(freed[row]) >= np.nanmax(kept[row])
            else:
                assert np.nanmax(freed[row]) <= np.nanmin(kept[row])


def test_ties_are_broken_by_the_lower_index():
    np.testing.assert_array_equal(free_fraction(np.ones(5), 0.4, free="most"), [True, True, False, False, False])
    np.testing.assert_array_equal(free_fraction(np.ones(5), 0.4, free="least"), [True, True, False, False, False])


def test_ratio_frees_the_least_retain_salient_for_rbm_and_the_most_forget_salient_for_fbm(rng):
    inst = sample_instance(SIZES, rng=rng, leak=0.05)
    ratio = SIZES.d_f / SIZES.d  # frees as many coordinates as S_f holds
    freed_rbm, freed_fbm = ~rbm_keep_mask(inst, ratio=ratio), ~fbm_keep_mask(inst, ratio=ratio)
    assert freed_rbm.sum() == freed_fbm.sum() == SIZES.d_f
    h_r = saliency(inst.X_r, inst.y_r)
    assert h_r[freed_rbm].max() <= h_r[~freed_rbm].min()
    h_f = saliency(inst.X_f, inst.y_f)
    assert h_f[freed_fbm].min() >= h_f[~freed_fbm].max()


def test_saliency_and_masked_update_refuse_non_finite_input(rng):
    inst = sample_instance(SIZES, rng=rng)
    w_o = fit_models(inst).w_o
    X = inst.X_r.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite, got 1 NaN or infinite entries"):
        saliency(X, inst.y_r)
    bad = w_o.copy()
    bad[3] = np.inf
    with pytest.raises(ValueError, match="w_o must be finite"):
        masked_update(bad, rbm_keep_mask(inst), inst)


@settings(max_examples=40, deadline=None)
@given(sizes=block_sizes(min_block=1), seed=st.integers(0, 2**32 - 1))
def test_rbm_keeps_zero_remaining_loss_before_finetuning_and_finetuning_is_a_no_op(sizes, seed):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed))
    w_o = fit_models(inst).w_o
    w_reset, w_rbm = reset_then_finetune(w_o, rbm_keep_mask(inst), inst)
    assert remaining_loss(w_reset, inst) <= 1e-18 * _scale(inst)
    np.testing.assert_allclose(w_rbm, w_reset, atol=1e-9 * (1 + np.abs(w_o).max()))
    f = sizes.d_f
    A_f = inst.X_f[:, :f]
    assert np.isclose(forgetting_loss(w_rbm, inst), np.mean((A_f @ w_o[:f]) ** 2), rtol=1e-8, atol=1e-18 * _scale(inst))
    assert np.isclose(fresh_remaining_loss(w_rbm, inst), fresh_remaining_loss(w_o, inst), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(sizes=block_sizes(min_block=1), seed=st.integers(0, 2**32 - 1))
def test_rbm_and_fbm_equal_the_golden_model_with_distinct_features(sizes, seed):
    distinct = BlockSizes(sizes.d_f + sizes.d_o, 0, sizes.d_r + sizes.d_o, sizes.n_f, sizes.n_r)
    inst = sample_instance(distinct, rng=np.random.default_rng(seed))
    fits = fit_models(inst)
    tol = 1e-9 * (1 + np.abs(fits.w_o).max())
    np.testing.assert_allclose(reset_then_finetune(fits.w_o, rbm_keep_mask(inst), inst)[1], fits.w_g, atol=tol)
    np.testing.assert_allclose(reset_then_finetune(fits.w_o, fbm_keep_mask(inst), inst)[1], fits.w_g, atol=tol)


def test_rbm_reduces_to_finetuning_at_full_overlap(rng):
    inst = sample_instance(BlockSizes(0, 20, 10, 6, 12), rng=rng)
    fits = fit_models(inst)
    assert rbm_keep_mask(inst).all()
    np.testing.assert_allclose(reset_then_finetune(fits.w_o, rbm_keep_mask(inst), inst)[1], fits.w_t, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(sizes=block_sizes(min_block=1), seed=st.integers(0, 2**32 - 1))
def test_fbm_breaks_the_remaining_fit_by_the_shared_block_then_finetuning_restores_it(sizes, seed):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed))
    w_o = fit_models(inst).w_o
    w_reset, w_fbm = reset_then_finetune(w_o, fbm_keep_mask(inst), inst)
    shared = sizes.block_mask("shared")
    expected = np.mean((inst.X_r[:, shared] @ w_o[shared]) ** 2)
    assert np.isclose(remaining_loss(w_reset, inst), expected, rtol=1e-8, atol=1e-18 * _scale(inst))
    assert remaining_loss(w_fbm, inst) <= 1e-16 * _scale(inst)
    np.testing.assert_array_equal(w_fbm[: sizes.d_f], 0.0)  # D_r never touches S_f


@settings(max_examples=30, deadline=None)
@given(sizes=block_sizes(min_block=1), seed=st.integers(0, 2**32 - 1), mask=st.sampled_from(["rbm", "fbm"]))
def test_masked_update_leaves_kept_weights_bit_identical_and_keeps_the_remaining_fit(sizes, seed, mask):
    """RBM's update never touches D_r's coordinates; FBM's keeps the fit when the system is consistent."""
    inst = sample_instance(sizes, rng=np.random.default_rng(seed))
    w_o = fit_models(inst).w_o
    keep = rbm_keep_mask(inst) if mask == "rbm" else fbm_keep_mask(inst)
    w = masked_update(w_o, keep, inst)
    np.testing.assert_array_equal(w[keep], w_o[keep])
    if mask == "rbm" or sizes.n_r + sizes.n_f <= sizes.d_f + sizes.d_o:
        assert remaining_loss(w, inst) <= 1e-14 * _scale(inst)


def test_fbm_masked_update_trades_the_remaining_fit_when_it_cannot_fit_both(rng):
    sizes = BlockSizes(d_f=2, d_o=3, d_r=10, n_f=4, n_r=6)  # 6 + 4 > 2 + 3 free
    inst = sample_instance(sizes, rng=rng)
    w_o = fit_models(inst).w_o
    assert remaining_loss(masked_update(w_o, fbm_keep_mask(inst), inst), inst) > 1e-6
    assert remaining_loss(masked_update(w_o, rbm_keep_mask(inst), inst), inst) < 1e-20


def test_masked_update_zeroes_forget_predictions_when_feasible(rng):
    inst = sample_instance(SIZES, rng=rng)  # n_f <= d_f: the forget-only block can absorb the change
    w_o = fit_models(inst).w_o
    for keep in (rbm_keep_mask(inst), fbm_keep_mask(inst)):
        w = masked_update(w_o, keep, inst)
        np.testing.assert_allclose(inst.X_f @ w, 0.0, atol=1e-9 * _scale(inst))
        assert np.isclose(forgetting_loss(w, inst), np.mean(inst.y_f**2))


def test_masked_weights_returns_every_method(rng):
    inst = sample_instance(SIZES, rng=rng)
    out = masked_weights(inst, fit_models(inst).w_o, ratio=0.5)
    assert set(out) == {"rbm", "fbm", "rbm_reset", "fbm_reset", "rbm_masked", "fbm_masked"}
    assert np.count_nonzero(out["rbm_reset"]) <= SIZES.d - round(0.5 * SIZES.d)  # half the weights freed (reset)


@pytest.mark.parametrize("ratio", [0.0, -0.1, 1.5, float("nan")])
def test_mask_ratio_outside_unit_interval_is_rejected(ratio):
    with pytest.raises(ValueError, match=r"mask ratio \(fraction of weights freed\) must be in \(0, 1\]"):
        free_fraction(np.ones(4), ratio, free="most")


def test_bad_masks_are_rejected(rng):
    inst = sample_instance(SIZES, rng=rng)
    w_o = fit_models(inst).w_o
    with pytest.raises(ValueError, match="a mask must be boolean, got dtype float64"):
        reset_then_finetune(w_o, np.ones(SIZES.d), inst)
    with pytest.raises(ValueError, match=r"mask shape \(3,\) does not match weight shape \(36,\)"):
        masked_update(w_o, np.ones(3, dtype=bool), inst)


def test_unknown_saliency_and_negative_leak_are_rejected(rng):
    with pytest.raises(ValueError, match="saliency kind must be one of"):
        saliency(np.ones((2, 3)), np.ones(2), kind="magnitude")
    with pytest.raises(ValueError, match="leak must be finite and >= 0, got -0.1"):
        sample_instance(SIZES, rng=rng, leak=-0.1)


#: One size per branch of Proposition 4.4 (d_f, d_o, d_r, n_f, n_r).
MASKED_BRANCHES = {
    # n_r >= d_o and n_f <= d_f although n_r + n_f > d_f + d_o: exact and identical (the review's case)
    "coincide": BlockSizes(10, 5, 50, 4, 20),
    # n_r < d_o, n_f > d_f, n_f + n_r <= d_f + d_o: FBM exact (it uses the null space of R_o), RBM not
    "fbm_exact_rbm_not": BlockSizes(2, 10, 50, 6, 3),
    # n_r < d_o, n_f <= d_f: both exact, but FBM moves shared weights, so they differ
    "both_exact_differ": BlockSizes(20, 10, 50, 6, 3),
    # n_f + min(n_r, d_o) > d_f + d_o: FBM cannot fit both sets
    "fbm_inconsistent": BlockSizes(2, 10, 50, 8, 6),
}


@pytest.mark.parametrize("branch", sorted(MASKED_BRANCHES))
def test_every_branch_of_proposition_4_4(rng, branch):
    from rbmlib.masks import fbm_masked_update_is_exact, masked_updates_coincide

    sizes = MASKED_BRANCHES[branch]
    inst = sample_instance(sizes, rng=rng)
    w_o = fit_models(inst).w_o
    rbm = masked_update(w_o, rbm_keep_mask(inst), inst)
    fbm = masked_update(w_o, fbm_keep_mask(inst), inst)
    tol = 1e-9 * _scale(inst)
    exact = fbm_masked_update_is_exact(sizes)
    assert exact == (branch != "fbm_inconsistent")
    assert masked_updates_coincide(sizes) == (branch == "coincide")
    fbm_fits = remaining_loss(fbm, inst) < tol and np.abs(inst.X_f @ fbm).max() < 1e-6 * np.sqrt(_scale(inst))
    assert bool(fbm_fits) == exact
    assert remaining_loss(rbm, inst) < tol  # RBM's update never touches the remaining fit
    rbm_zeroes = np.abs(inst.X_f @ rbm).max() < 1e-6 * np.sqrt(_scale(inst))
    assert bool(rbm_zeroes) == (sizes.n_f <= sizes.d_f)
    same = np.abs(rbm - fbm).max() < 1e-8 * np.sqrt(_scale(inst))
    assert bool(same) == masked_updates_coincide(sizes)
    if branch == "both_exact_differ":  # FBM's difference is on the shared block, so the fresh loss moves
        assert abs(fresh_remaining_loss(fbm, inst) - fresh_remaining_loss(rbm, inst)) > 1e-8


@pytest.mark.parametrize("branch", sorted(MASKED_BRANCHES))
def test_masked_regime_measures_what_proposition_4_4_predicts(rng, branch):
    from rbmlib.masks import masked_regime

    row = masked_regime(MASKED_BRANCHES[branch], rng=rng)
    assert row["FBM exact"] == row["FBM exact (Prop. 4.4)"]
    assert row["identical"] == row["identical (Prop. 4.4)"]
    assert (row["FBM remaining loss"] == "0") == row["FBM exact"]
