"""FBM's (reset, then FT) deterministic equivalents: identities, cross-checks and a seeded Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.experiments import simulate_methods
from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig
from rbmlib.theory import (
    compressed_law,
    compression_law,
    expected_golden_forgetting_loss,
    expected_golden_fresh_remaining_loss,
    fbm_forgetting_loss_de,
    fbm_fresh_remaining_loss_de,
    original_fresh_remaining_loss_compressed,
    original_fresh_remaining_loss_de,
    rbm_forgetting_loss_compressed,
    rbm_forgetting_loss_de,
    rbm_minus_fbm_sign,
    theory_gaps,
    theory_kinds,
)

#: A deterministic equivalent may miss the finite-size mean by its O(1/d) bias: the Monte Carlo
#: check allows N_SE standard errors plus REL_TOL of the value (the measured bias is below 3 %
#: at these sizes, see benchmarks/bench_theory.py).
N_SE, REL_TOL = 4.0, 0.05


@st.composite
def strict_sizes(draw, max_block: int = 60, min_shared: int = 1):
    d_r, d_o = draw(st.integers(1, max_block)), draw(st.integers(min_shared, max_block))
    d_f = draw(st.integers(int(d_o < 2), max_block))  # room for 1 <= n_f < d_f + d_o
    n_f = draw(st.integers(1, d_f + d_o - 1))
    n_r = draw(st.integers(1, min(d_o + d_r - 1, d_f + d_o + d_r - n_f - 1)))
    return dict(d_f=d_f, d_o=d_o, d_r=d_r, n_f=n_f, n_r=n_r)


@settings(max_examples=100, deadline=None)
@given(m=st.integers(2, 200), data=st.data())
def test_compression_law_has_the_exact_mass_and_first_moment(m, data):
    d_r, k = data.draw(st.integers(0, m)), data.draw(st.integers(1, m))
    t, w = compression_law(m, d_r, k)
    assert np.all((t >= 0) & (t <= 1)) and np.all(w > 0)
    assert w.sum() == pytest.approx(k, rel=1e-9)
    # E tr(N^T E_r N) = k d_r / m exactly for a uniformly random k-frame
    assert (w * t).sum() == pytest.approx(k * d_r / m, rel=1e-8, abs=1e-9)


def test_compression_law_matches_a_sampled_spectrum():
    rng = np.random.default_rng(11)
    m, d_r, k = 300, 180, 140
    q, _ = np.linalg.qr(rng.standard_normal((m, k)))
    ev = np.linalg.eigvalsh(q[m - d_r :].T @ q[m - d_r :])
    t, w = compression_law(m, d_r, k)
    for power in (2, 3):  # higher moments: equal in the limit, O(1/m) apart at this size
        assert (w * t**power).sum() / k == pytest.approx(np.mean(ev**power), rel=0.01)


@settings(max_examples=100, deadline=None)
@given(sizes=strict_sizes())
def test_the_compressed_route_reproduces_the_block_fixed_point(sizes):
    """Two fixed points for the same limit: the ker X_r route against Theorem 4.7's."""
    assert original_fresh_remaining_loss_compressed(**sizes) == pytest.approx(
        original_fresh_remaining_loss_de(**sizes), rel=1e-7
    )
    assert rbm_forgetting_loss_compressed(**sizes) == pytest.approx(rbm_forgetting_loss_de(**sizes), rel=1e-7, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(sizes=strict_sizes())
def test_second_order_equivalent_respects_that_k_c_is_a_projector(sizes):
    law = compressed_law(*sizes.values())
    assert law.kappa > 0
    assert np.sum(law.w * law.sigma / (law.sigma + law.kappa)) == pytest.approx(sizes["n_f"], rel=1e-9)
    for a in (law.ef, law.eo, law.er, law.eo**3):
        assert law.tr_kbk(a, np.ones_like(a)) == pytest.approx(law.tr_k(a), rel=1e-9, abs=1e-12)  # K_C^2 = K_C
        assert 0 <= law.tr_k(a) <= law.tr(a) + 1e-9


@settings(max_examples=100, deadline=None)
@given(sizes=strict_sizes(), scales=st.tuples(*(st.floats(0.1, 3.0),) * 3))
def test_fbm_equivalents_are_finite_nonnegative_and_linear_in_the_teacher_energy(sizes, scales):
    dims = (sizes["d_f"], sizes["d_o"], sizes["d_r"])
    norms = [d * s**2 for d, s in zip(dims, scales)]
    for fn in (fbm_forgetting_loss_de, fbm_fresh_remaining_loss_de):
        value = fn(**sizes, teacher_sq_norms=norms)
        assert np.isfinite(value) and value >= 0
        doubled = fn(**sizes, teacher_sq_norms=[2 * n for n in norms])
        assert doubled == pytest.approx(2 * value, rel=1e-9, abs=1e-12)


def test_fbm_is_the_golden_model_without_a_shared_block():
    kw = dict(d_f=20, d_o=0, d_r=30, n_f=8, n_r=12)
    assert fbm_forgetting_loss_de(**kw) == expected_golden_forgetting_loss(**kw)
    assert fbm_fresh_remaining_loss_de(**kw) == expected_golden_fresh_remaining_loss(**kw)


@settings(max_examples=80, deadline=None)
@given(sizes=strict_sizes(), sigma=st.floats(0.1, 3.0))
def test_fbm_fresh_noise_term_is_positive_and_quadratic_in_sigma(sizes, sigma):
    m = sizes["d_o"] + sizes["d_r"]
    if m <= sizes["n_r"] + 1 or sizes["d_f"] + sizes["d_o"] <= sizes["n_f"] + 1:
        return  # outside the moment condition (refused, tested below)
    clean = fbm_fresh_remaining_loss_de(**sizes)
    unit = fbm_fresh_remaining_loss_de(**sizes, noise=1.0) - clean
    assert unit >= sizes["n_r"] / (m - sizes["n_r"] - 1) - 1e-9  # at least the golden model's noise
    assert fbm_fresh_remaining_loss_de(**sizes, noise=sigma) == pytest.approx(clean + sigma**2 * unit, rel=1e-9)


@pytest.mark.parametrize("shape", [(40, 60, 100, 20, 56), (0, 100, 100, 20, 50), (60, 40, 100, 20, 100)])
def test_fbm_fresh_noise_term_matches_seeded_monte_carlo(shape):
    sizes = BlockSizes(*shape)
    kw = dict(zip(("d_f", "d_o", "d_r", "n_f", "n_r"), shape))
    values = simulate_methods(SimulationConfig(sizes, draws=300, seed=99, noise=2.0), methods=("fbm",))["fbm"][
        "fresh_remaining_loss"
    ]
    theory = fbm_fresh_remaining_loss_de(**kw, noise=2.0)
    se = np.std(values, ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - theory) <= N_SE * se + REL_TOL * theory, (values.mean(), theory, se)


@pytest.mark.parametrize(
    "shape",
    [
        (40, 60, 100, 20, 56),
        (80, 20, 100, 20, 60),
        (0, 100, 100, 20, 50),
        (20, 80, 100, 20, 144),
        (160, 40, 200, 40, 80),
    ],
    ids=["grid-0.6", "grid-0.2", "full-overlap", "large-n_r", "running-example"],
)
def test_fbm_equivalents_match_seeded_monte_carlo(shape):
    sizes = BlockSizes(*shape)
    kw = dict(zip(("d_f", "d_o", "d_r", "n_f", "n_r"), shape))
    samples = simulate_methods(SimulationConfig(sizes, draws=300, seed=2024), methods=("fbm",))["fbm"]
    for metric, fn in (
        ("forgetting_loss", fbm_forgetting_loss_de),
        ("fresh_remaining_loss", fbm_fresh_remaining_loss_de),
    ):
        values, theory = samples[metric], fn(**kw)
        se = np.std(values, ddof=1) / np.sqrt(values.size)
        assert abs(values.mean() - theory) <= N_SE * se + REL_TOL * theory, (metric, values.mean(), theory, se)


def test_bad_input_is_refused_with_the_condition():
    with pytest.raises(ValueError, match=r"d_o \+ d_r > n_r \+ 1"):
        fbm_fresh_remaining_loss_de(d_f=40, d_o=60, d_r=100, n_f=20, n_r=159, noise=0.5)
    with pytest.raises(ValueError, match="noiseless labels only"):
        fbm_forgetting_loss_de(d_f=40, d_o=60, d_r=100, n_f=20, n_r=56, noise=0.5)
    with pytest.raises(ValueError, match=r"n_f \+ n_r < d"):
        fbm_fresh_remaining_loss_de(d_f=10, d_o=10, d_r=10, n_f=15, n_r=15)
    with pytest.raises(ValueError, match=r"need 0 <= d_r <= m"):
        compression_law(10, 11, 3)


def test_table_marks_fbm_an_equivalent_without_noise_and_gives_the_reason_with_noise():
    sizes = BlockSizes(40, 60, 100, 20, 56)
    assert theory_kinds(sizes)["fbm"] == {
        "forgetting_loss": "deterministic equivalent",
        "remaining_loss": "exact",
        "fresh_remaining_loss": "deterministic equivalent",
    }
    gaps = theory_gaps(sizes, noise=0.5)
    assert "noiseless labels only" in gaps["fbm"]["forgetting_loss"]
    assert "fresh_remaining_loss" not in gaps["fbm"]  # the fresh loss has its noise term
    sign = rbm_minus_fbm_sign(sizes, update="reset")
    assert sign["remaining_loss"] == 0 and sign["fresh_remaining_loss"] == 1  # RBM keeps the learned shared block
    assert sign["forgetting_loss"] == 1
