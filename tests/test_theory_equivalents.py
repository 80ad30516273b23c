"""The block fixed point (deterministic equivalents) against its identities and a seeded Monte Carlo."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.experiments import simulate_methods
from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig, simulate
from rbmlib.theory import (
    expected_losses,
    original_fresh_remaining_loss_de,
    projector_equivalent,
    rbm_forgetting_loss_de,
    theory_gaps,
    theory_kinds,
    theory_table,
)


@st.composite
def strict_sizes(draw, max_block: int = 60):
    d_f, d_o, d_r = (draw(st.integers(1, max_block)) for _ in range(3))
    n_f = draw(st.integers(1, d_f + d_o - 1))
    n_r = draw(st.integers(1, min(d_o + d_r - 1, d_f + d_o + d_r - n_f - 1)))
    return d_f, d_o, d_r, n_f, n_r


@settings(max_examples=150, deadline=None)
@given(sizes=strict_sizes())
def test_fixed_point_satisfies_the_trace_identities_of_a_projector(sizes):
    d_f, d_o, d_r, n_f, n_r = sizes
    pe = projector_equivalent(*sizes)
    dims = np.array([d_f, d_o, d_r], dtype=float)
    assert np.all((pe.e > 0) & (pe.e < 1))
    assert dims @ (1 - pe.e) == pytest.approx(n_f + n_r, rel=1e-9)  # tr P = n
    np.testing.assert_allclose(pe.F.sum(axis=1), dims * pe.e, rtol=1e-8)  # sum_b tr(E_a K E_b K) = tr(E_a K)
    assert np.all(pe.F >= -1e-9 * dims.max()) and np.all(pe.noise_gain > 0)
    # 1/g_I is the null-space trace seen by group I (the fixed point itself)
    np.testing.assert_allclose(1 / pe.g, [d_f * pe.e[0] + d_o * pe.e[1], d_o * pe.e[1] + d_r * pe.e[2]], rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(d_f=st.integers(2, 80), d_r=st.integers(2, 80), data=st.data())
def test_distinct_blocks_decouple_into_two_isotropic_designs(d_f, d_r, data):
    n_f, n_r = data.draw(st.integers(1, d_f - 1)), data.draw(st.integers(1, d_r - 1))
    pe = projector_equivalent(d_f, 0, d_r, n_f, n_r)
    assert pe.e[0] == pytest.approx(1 - n_f / d_f) and pe.e[2] == pytest.approx(1 - n_r / d_r)
    # noise: tr (X X^T)^-1 -> n / (d - n) per group (the exact mean is n / (d - n - 1))
    assert pe.noise_gain[2] == pytest.approx(n_r / (d_r - n_r), rel=1e-8)
    assert pe.F[0, 2] == pytest.approx(0.0, abs=1e-9)


def test_one_shared_block_is_the_isotropic_design():
    pe = projector_equivalent(0, 50, 0, 10, 15)
    assert pe.e[1] == pytest.approx(1 - 25 / 50)
    # tr(K K) = tr K for a projector
    assert pe.F[1, 1] == pytest.approx(25.0)


# Stated accuracy: at these sizes the relative error of the equivalent is below REL
# (measured by benchmarks/bench_theory.py), and the test allows REL plus 3 Monte Carlo SE.
FRESH_CASES = [
    (BlockSizes(60, 40, 100, 20, 56), 0.0, (1.0, 1.0, 1.0)),
    (BlockSizes(60, 40, 100, 20, 56), 1.0, (1.0, 1.0, 1.0)),
    (BlockSizes(60, 40, 100, 20, 56), 0.0, (0.5, 2.0, 1.0)),  # anisotropic: tests the block weights s_b^2
    (BlockSizes(20, 80, 100, 20, 90), 0.0, (1.0, 1.0, 0.3)),
]


@pytest.mark.parametrize(("sizes", "noise", "scales"), FRESH_CASES)
def test_original_fresh_loss_equivalent_is_within_2_percent(sizes, noise, scales, seed):
    samples = simulate(SimulationConfig(sizes, draws=500, seed=seed, noise=noise, teacher_scales=scales))
    values = samples["original"]["fresh_remaining_loss"]
    theory = expected_losses(sizes, noise=noise, teacher_scales=scales)["original"]["fresh_remaining_loss"]
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - theory) <= 0.02 * theory + 3 * se, (values.mean(), theory, se)


@pytest.mark.parametrize(
    ("sizes", "noise"), [(BlockSizes(60, 40, 100, 20, 56), 0.0), (BlockSizes(80, 20, 100, 20, 24), 2.0)]
)
def test_rbm_forgetting_loss_equivalent_is_within_8_percent(sizes, noise, seed):
    samples = simulate_methods(SimulationConfig(sizes, draws=300, seed=seed, noise=noise), methods=("rbm",))
    values = samples["rbm"]["forgetting_loss"]
    theory = rbm_forgetting_loss_de(**asdict(sizes), noise=noise)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - theory) <= 0.08 * theory + 3 * se, (values.mean(), theory, se)


def test_equivalents_are_exact_in_the_degenerate_cases():
    kw = {"d_o": 0, "d_r": 30, "n_f": 8, "n_r": 12}
    assert rbm_forgetting_loss_de(d_f=20, **kw) == pytest.approx(20.0)  # golden, Theorem 2.1
    assert original_fresh_remaining_loss_de(d_f=20, **kw) == pytest.approx(18.0)  # golden, Proposition 3.3
    assert rbm_forgetting_loss_de(d_f=0, d_o=20, d_r=30, n_f=8, n_r=12) == 0.0
    kinds = theory_kinds(BlockSizes(20, 0, 30, 8, 12))
    assert all(k == "exact" for row in kinds.values() for k in row.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, 5, 20, 15, 8), r"strictly over-parameterised design, n_f < d_f \+ d_o"),
        ((10, 5, 20, 4, 25), r"n_r < d_o \+ d_r"),
        ((10, 5, 20, 0, 8), "n_f, n_r >= 1"),
    ],
)
def test_fixed_point_rejects_sizes_outside_its_assumptions(args, message):
    with pytest.raises(ValueError, match=message):
        projector_equivalent(*args)


def test_noise_outside_the_moment_condition_is_refused_and_documented():
    with pytest.raises(ValueError, match=r"d_f \+ d_o > n_f \+ 1"):
        original_fresh_remaining_loss_de(d_f=3, d_o=5, d_r=20, n_f=7, n_r=8, noise=1.0)
    sizes = BlockSizes(3, 5, 20, 7, 8)
    assert expected_losses(sizes, noise=1.0)["original"]["fresh_remaining_loss"] is None
    assert "moment condition" in theory_gaps(sizes, noise=1.0)["original"]["fresh_remaining_loss"]
    # a square forgetting design: the equivalent does not apply, and says why
    square = BlockSizes(10, 5, 20, 15, 8)
    assert "square design" in theory_gaps(square)["rbm"]["forgetting_loss"]


@settings(max_examples=60, deadline=None)
@given(sizes=strict_sizes(max_block=30), noise=st.sampled_from([0.0, 0.5]))
def test_every_cell_is_a_finite_nonnegative_value_or_none_with_a_reason(sizes, noise):
    table = theory_table(BlockSizes(*sizes), noise=noise)
    for row in table.values():
        for value, kind, reason in row.values():
            if value is None:
                assert kind == "none" and reason
            else:
                assert np.isfinite(value) and value >= 0 and kind in ("exact", "deterministic equivalent")
