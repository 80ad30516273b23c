"""Tests of rbmlib.theory: the closed forms of Chapters 2 and 3, against exact identities and Monte Carlo."""

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
    row_space_projector,
    sample_instance,
)
from rbmlib.simulation import SimulationConfig, simulate, summarise
from rbmlib.theory import (
    distinct_golden_forgetting_loss,
    expected_golden_forgetting_loss,
    expected_golden_fresh_remaining_loss,
    expected_losses,
    uniform_projection_moments,
)
from tests.strategies import block_sizes

#: Monte Carlo checks pass when the mean is within this many standard errors of the closed form.
N_SE = 4


# ----- exact identities, per instance -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(sizes=block_sizes(), seed=st.integers(0, 2**32 - 1), noise=st.sampled_from([0.0, 0.7]))
def test_finetuned_model_is_the_original_and_every_model_fits_the_remaining_data(sizes, seed, noise):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed), noise=noise)
    fits = fit_models(inst)
    P_r = row_space_projector(inst.X_r)
    scale = 1 + np.linalg.norm(fits.w_o)
    np.testing.assert_allclose(fits.w_t, fits.w_g + (np.eye(sizes.d) - P_r) @ fits.w_o, atol=1e-9 * scale)
    np.testing.assert_allclose(fits.w_t, fits.w_o, atol=1e-9 * scale)
    y_scale = 1 + np.mean(inst.y**2)
    for w in (fits.w_o, fits.w_g, fits.w_t):
        assert remaining_loss(w, inst) <= 1e-18 * y_scale
    assert forgetting_loss(fits.w_t, inst) <= 1e-18 * y_scale


@settings(max_examples=60, deadline=None)
@given(sizes=block_sizes(distinct=True), seed=st.integers(0, 2**32 - 1), noise=st.sampled_from([0.0, 0.7]))
def test_distinct_golden_forgetting_loss_is_the_label_energy_exactly(sizes, seed, noise):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed), noise=noise)
    w_g = fit_models(inst).w_g
    assert np.all(inst.X_f @ w_g == 0)  # disjoint supports: every product is an exact zero
    np.testing.assert_array_equal(forgetting_loss(w_g, inst), distinct_golden_forgetting_loss(inst.y_f))


@settings(max_examples=40, deadline=None)
@given(sizes=block_sizes(distinct=True), seed=st.integers(0, 2**32 - 1), noise=st.sampled_from([0.0, 0.7]))
def test_distinct_original_and_golden_agree_on_the_retain_block(sizes, seed, noise):
    inst = sample_instance(sizes, rng=np.random.default_rng(seed), noise=noise)
    fits = fit_models(inst)
    rs = sizes.retain_support
    np.testing.assert_allclose(fits.w_o[rs], fits.w_g[rs], atol=1e-9 * (1 + np.linalg.norm(fits.w_o)))
    np.testing.assert_allclose(
        fresh_remaining_loss(fits.w_o, inst), fresh_remaining_loss(fits.w_g, inst), rtol=1e-8, atol=1e-12
    )


def test_distinct_formula_accepts_batches():
    y_f = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(distinct_golden_forgetting_loss(y_f), [5 / 3, 50 / 3])


# ----- Lemma 3.1: moments of a uniformly random projection -----------------------------------------


@pytest.mark.parametrize(("m", "k"), [(1, 0), (1, 1), (2, 1), (5, 0), (5, 5), (7, 3), (240, 160)])
def test_projection_moments_satisfy_their_defining_equations(m, k):
    c1, c2 = uniform_projection_moments(m, k)
    assert c1 + m * c2 == pytest.approx(k / m)  # M = I: E[Q] = (k/m) I
    # I - Q is a uniform projection of rank m - k, and E[(I-Q)M(I-Q)] = M - 2(k/m)M + E[QMQ]: the
    # constants at k and at m - k must obey c2(m-k) = c2(k) and c1(m-k) = 1 - 2k/m + c1(k). The code
    # computes each rank on its own, so this can fail (unlike c1 + c2 = mu2, true by construction).
    d1, d2 = uniform_projection_moments(m, m - k)
    assert d2 == pytest.approx(c2, abs=1e-15) and d1 == pytest.approx(1 - 2 * k / m + c1)
    assert c2 >= 0


@pytest.mark.parametrize(("m", "k", "expected"), [(4, 0, (0.0, 0.0)), (4, 4, (1.0, 0.0)), (1, 1, (1.0, 0.0))])
def test_deterministic_projections_have_no_trace_term(m, k, expected):
    assert uniform_projection_moments(m, k) == pytest.approx(expected)


def test_projection_moments_match_monte_carlo(seed):
    m, k, draws = 6, 2, 20_000
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, m))
    M = M + M.T
    A = rng.standard_normal((m, m))
    basis = np.linalg.qr(rng.standard_normal((draws, m, k)))[0]  # (draws, m, k): uniform k-frames
    Q = basis @ np.swapaxes(basis, -1, -2)
    stat = np.einsum("ij,nji->n", A, Q @ M @ Q)  # tr(A Q M Q)
    c1, c2 = uniform_projection_moments(m, k)
    expected = np.trace(A @ (c1 * M + c2 * np.trace(M) * np.eye(m)))
    se = stat.std(ddof=1) / np.sqrt(draws)
    assert abs(stat.mean() - expected) < N_SE * se, (seed, stat.mean(), expected, se)


# ----- Theorem 3.2 and Propositions 3.3, 3.4 -------------------------------------------------------


def test_isotropic_closed_forms_simplify():
    kw = {"d_f": 160, "d_o": 40, "d_r": 200, "n_f": 40, "n_r": 80}
    assert expected_golden_forgetting_loss(**kw) == pytest.approx(160 + 40 * 160 / 240)
    assert expected_golden_fresh_remaining_loss(**kw) == pytest.approx(240 - 80)
    full = {**kw, "d_f": 0, "d_o": 200}
    assert expected_golden_forgetting_loss(**full) == pytest.approx(200 * 320 / 400)


def test_distinct_case_reduces_to_chapter_2():
    kw = {"d_f": 30, "d_o": 0, "d_r": 50, "n_f": 10, "n_r": 20}
    assert expected_golden_forgetting_loss(**kw, teacher_sq_norms=(7.0, 0.0, 3.0)) == pytest.approx(7.0)
    assert expected_golden_forgetting_loss(**kw, noise=0.5) == pytest.approx(30 + 0.25)


def test_noise_terms():
    kw = {"d_f": 10, "d_o": 20, "d_r": 30, "n_f": 5, "n_r": 19}  # m = 50
    gain = 19 / (50 - 19 - 1)
    base_forget = expected_golden_forgetting_loss(**kw)
    assert expected_golden_forgetting_loss(**kw, noise=2.0) - base_forget == pytest.approx(4 * (1 + 20 * gain / 50))
    base_fresh = expected_golden_fresh_remaining_loss(**kw)
    assert expected_golden_fresh_remaining_loss(**kw, noise=2.0) - base_fresh == pytest.approx(4 * gain)


@pytest.mark.parametrize(
    ("sizes", "scales", "noise"),
    [
        (BlockSizes(6, 8, 10, 4, 6), (1.0, 1.0, 1.0), 0.0),
        (BlockSizes(6, 8, 10, 4, 6), (0.5, 2.0, 0.0), 0.0),  # teacher concentrated on S_o: tests c1 vs c2
        (BlockSizes(0, 12, 6, 5, 7), (0.0, 1.0, 3.0), 0.0),  # full overlap
        (BlockSizes(6, 8, 14, 4, 9), (1.0, 1.0, 1.0), 0.8),  # noise; m - n_r - 3 > 0 keeps the variance finite
    ],
)
def test_golden_losses_match_a_seeded_monte_carlo(sizes, scales, noise, seed):
    cfg = SimulationConfig(sizes, draws=4000, seed=seed, noise=noise, teacher_scales=scales)
    golden = summarise(simulate(cfg)).set_index("method").loc["golden"]
    theory = expected_losses(sizes, noise=noise, teacher_scales=scales)["golden"]
    for metric in ("forgetting_loss", "fresh_remaining_loss"):
        mean, se = golden[f"{metric}_mean"], golden[f"{metric}_se"]
        assert abs(mean - theory[metric]) < N_SE * se, (seed, metric, mean, se, theory[metric])


def test_expected_losses_report_none_only_where_the_expectation_is_infinite():
    overlap = expected_losses(BlockSizes(10, 5, 20, 4, 8))
    assert overlap["original"]["fresh_remaining_loss"] == overlap["ft"]["fresh_remaining_loss"] > 0  # equivalent
    assert expected_losses(BlockSizes(10, 5, 20, 4, 8), exact_only=True)["original"]["fresh_remaining_loss"] is None
    assert overlap["golden"]["remaining_loss"] == 0.0 and overlap["ft"]["forgetting_loss"] == 0.0
    distinct = expected_losses(BlockSizes(10, 0, 20, 4, 8), noise=0.5)
    assert distinct["original"]["fresh_remaining_loss"] == pytest.approx(12 + 0.25 * 8 / 11)
    singular = expected_losses(BlockSizes(10, 5, 4, 4, 8), noise=0.5)  # m = 9 = n_r + 1: infinite mean
    assert singular["golden"]["fresh_remaining_loss"] is None and singular["golden"]["forgetting_loss"] is None
    assert singular["original"]["fresh_remaining_loss"] is None
    assert expected_losses(BlockSizes(10, 0, 9, 4, 8), noise=0.5)["golden"]["forgetting_loss"] == pytest.approx(10.25)


# ----- bad input ----------------------------------------------------------------------------------

GOOD = {"d_f": 10, "d_o": 5, "d_r": 20, "n_f": 4, "n_r": 8}


@pytest.mark.parametrize("fn", [expected_golden_forgetting_loss, expected_golden_fresh_remaining_loss])
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"n_r": 26}, r"n_r <= d_o \+ d_r \(X_r interpolates\), got n_r = 26 > 5 \+ 20"),
        ({"n_f": 16}, r"n_f <= d_f \+ d_o \(X_f interpolates\), got n_f = 16 > 10 \+ 5"),
        ({"n_f": 0}, "n_f must be >= 1, got 0"),
        ({"n_r": -3}, "n_r must be >= 1, got -3"),
        ({"d_o": -1}, "d_o must be >= 0, got -1"),
        ({"d_r": 2.5}, "d_r must be an integer, got 2.5"),
        ({"noise": -0.1}, "sigma must be finite and >= 0, got -0.1"),
        ({"noise": 1.0, "d_r": 4}, r"needs d_o \+ d_r > n_r \+ 1 .* got d_o \+ d_r = 9, n_r = 8"),
        ({"teacher_sq_norms": (1.0, 2.0)}, "got 2 values"),
        ({"teacher_sq_norms": (1.0, -2.0, 0.0)}, "on S_o must be finite and >= 0, got -2.0"),
        ({"teacher_sq_norms": (1.0, 2.0, 3.0), "d_r": 0, "n_r": 3}, "block S_r is empty, so .* must be 0, got 3.0"),
    ],
)
def test_closed_forms_reject_settings_outside_the_theorem(fn, override, message):
    with pytest.raises(ValueError, match=message):
        fn(**{**GOOD, **override})


@pytest.mark.parametrize(
    ("m", "k", "message"),
    [(0, 0, "m must be >= 1, got 0"), (3, 4, "k <= m, got k = 4 > m = 3"), (3, -1, "k must be >= 0, got -1")],
)
def test_projection_moments_reject_bad_ranks(m, k, message):
    with pytest.raises(ValueError, match=message):
        uniform_projection_moments(m, k)


def test_distinct_formula_rejects_empty_labels():
    with pytest.raises(ValueError, match=r"n_f >= 1, got \(2, 0\)"):
        distinct_golden_forgetting_loss(np.zeros((2, 0)))
