"""Membership inference in the block model: closed forms against Monte Carlo (rbmlib.membership)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.deep.audit import auc, roc
from rbmlib.linear_model import BlockSizes, sample_instances
from rbmlib.membership import (
    forget_residuals,
    gaussian_scale_auc,
    gaussian_scale_roc,
    membership_scores,
    residual_scales,
    simulated_membership,
    simulated_roc,
)

OVERLAP = BlockSizes(d_f=60, d_o=60, d_r=120, n_f=20, n_r=40)
DISTINCT = BlockSizes(d_f=120, d_o=0, d_r=120, n_f=20, n_r=40)
DRAWS = 150


def test_ft_leaves_every_forgetting_residual_at_zero_a_perfect_signal(seed):
    inst = sample_instances(OVERLAP, 20, rng=np.random.default_rng(seed))
    res = forget_residuals(inst)
    scale = np.abs(inst.y_f).max()
    np.testing.assert_allclose(res["ft"], 0.0, atol=1e-9 * scale)
    assert np.abs(res["golden"]).min() > 1e-6 * scale  # the golden model never fits D_f
    sim = simulated_membership(inst)["ft"]
    assert (sim["auc"], sim["tpr1"], sim["tpr5"]) == (1.0, 1.0, 1.0)
    assert residual_scales(OVERLAP)["ft"] == 0.0 and gaussian_scale_auc(0.0, 1.0) == 1.0


def test_with_distinct_features_rbm_and_fbm_are_the_golden_model_auc_one_half(seed):
    inst = sample_instances(DISTINCT, 12, rng=np.random.default_rng(seed))
    res = forget_residuals(inst)
    scale = np.abs(inst.y_f).max()
    for m in ("rbm", "fbm"):
        np.testing.assert_allclose(res[m], res["golden"], atol=1e-9 * scale)
        sim = simulated_membership(inst, groups=4)[m]
        assert sim["auc"] == 0.5
    theory = residual_scales(DISTINCT)
    assert theory["rbm"] == theory["fbm"] == theory["golden"]


def test_rbm_auc_with_overlap_matches_the_gaussian_theory_within_its_se(seed):
    # Theory: AUC = (2/pi) arctan(sigma_golden / sigma_rbm) with both scales from the chapters'
    # forgetting-loss formulas. Tolerance: 4 batch-means SE of the simulated AUC plus 0.01 for the
    # Gaussian approximation of a trained-on example's residual and the deterministic equivalent.
    inst = sample_instances(OVERLAP, DRAWS, rng=np.random.default_rng(seed))
    sim = simulated_membership(inst)["rbm"]
    th = residual_scales(OVERLAP)
    expected = gaussian_scale_auc(th["rbm"], th["golden"])
    assert expected > 0.55  # a real signal: RBM keeps part of D_f's fit on the shared block
    assert abs(sim["auc"] - expected) < 4 * sim["auc_se"] + 0.01, (sim, expected)


def test_theory_roc_lies_on_the_simulated_roc(seed):
    inst = sample_instances(OVERLAP, DRAWS, rng=np.random.default_rng(seed))
    fpr, tpr = simulated_roc(inst, "rbm")
    th = residual_scales(OVERLAP)
    grid = np.linspace(0.01, 0.99, 50)
    sim_at = np.interp(grid, fpr, tpr)
    assert np.max(np.abs(sim_at - gaussian_scale_roc(grid, th["rbm"], th["golden"]))) < 0.04


@pytest.mark.parametrize(("s1", "s0"), [(1.0, 2.0), (3.0, 1.5)])
def test_gaussian_scale_formulas_match_pure_gaussian_monte_carlo(seed, s1, s0):
    # Known answer: residuals exactly N(0, s1^2) vs N(0, s0^2); n = 20000 each, AUC SE < 0.003.
    rng = np.random.default_rng(seed)
    r1, r0 = rng.normal(0, s1, 20_000), rng.normal(0, s0, 20_000)
    pos, neg = membership_scores(r1, r0, method_smaller=s1 < s0)
    assert auc(pos, neg) == pytest.approx(gaussian_scale_auc(s1, s0), abs=0.012)
    fpr, tpr = roc(pos, neg)
    grid = np.array([0.01, 0.05, 0.2, 0.5, 0.8])
    np.testing.assert_allclose(np.interp(grid, fpr, tpr), gaussian_scale_roc(grid, s1, s0), atol=0.02)
    # The closed-form curve integrates to the closed-form AUC.
    x = np.linspace(0, 1, 200_001)
    assert np.trapezoid(gaussian_scale_roc(x, s1, s0), x) == pytest.approx(gaussian_scale_auc(s1, s0), abs=1e-3)


def test_fbm_with_overlap_has_a_theory_curve_only_without_label_noise():
    assert residual_scales(OVERLAP)["fbm"] > 0  # Theorem 5.1
    assert residual_scales(OVERLAP, noise=0.5)["fbm"] is None  # no formula for its noisy forgetting loss
