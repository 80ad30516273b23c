"""Membership audits on synthetic confidences with a known answer (rbmlib.deep.audit)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.deep.audit import (
    auc,
    audit_summary,
    gaussian_fit,
    logit_confidence,
    logit_scale,
    placement,
    pooled_sd,
    rmia_scores,
    ulira_scores,
)
from rbmlib.roc import null_auc_sd


def _shadow_world(rng: np.random.Generator, *, shift: float, k: int = 8, n: int = 1500):
    """Per-example means m_j; unlearned models give phi ~ N(m_j + shift, 1), retrained N(m_j, 1).

    Returns the shadow statistics (unlearned: k x n with an 'in' mask of random halves; retrained:
    k x n) and the targets (one unlearned, one retrained model)."""
    m = rng.normal(0.0, 3.0, n)
    unl = m + shift + rng.normal(size=(k, n))
    inside = rng.random((k, n)) < 0.5
    inside[0], inside[1] = True, False  # every example in and out at least once
    ret = m + rng.normal(size=(k, n))
    return unl, inside, ret, m + shift + rng.normal(size=n), m + rng.normal(size=n)


def _ulira(unl, inside, ret, t_unl, t_ret, variant="online"):
    mu_in, sd_in = gaussian_fit(unl, inside)
    mu_out, sd_out = gaussian_fit(ret)
    kw = dict(mu_out=mu_out, sd_out=sd_out, mu_in=mu_in, sd_in=sd_in, variant=variant)
    return ulira_scores(t_unl, **kw), ulira_scores(t_ret, **kw)


def test_logit_confidence_matches_the_softmax_and_stays_finite_near_one():
    z = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0], [60.0, 0.0, 0.0]])
    y = np.array([0, 2, 0])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    py = p[np.arange(3), y]
    phi = logit_confidence(z, y)
    np.testing.assert_allclose(phi[:2], np.log(py[:2] / (1 - py[:2])), rtol=1e-12)
    assert phi[2] == pytest.approx(60.0 - np.log(2.0))  # 1 - p_y rounds to 0 in float64 here
    np.testing.assert_allclose(logit_scale(py[:2]), phi[:2], rtol=1e-9)


def test_ulira_on_identical_distributions_has_auc_one_half(seed):
    # Unlearned and retrained models draw phi from the same distribution: no attack can separate
    # them, so the AUC is 1/2 within 4 null standard deviations (0.0149 at n = 1500 per class).
    rng = np.random.default_rng(seed)
    pos, neg = _ulira(*_shadow_world(rng, shift=0.0))
    assert abs(auc(pos, neg) - 0.5) < 4 * null_auc_sd(len(pos), len(neg))


def test_ulira_on_separated_distributions_has_auc_near_one(seed):
    rng = np.random.default_rng(seed)
    for variant in ("online", "offline"):
        pos, neg = _ulira(*_shadow_world(rng, shift=6.0), variant=variant)
        assert auc(pos, neg) > 0.99


def test_ulira_is_per_example_where_a_population_threshold_is_blind(seed):
    # Per-example means spread (sd 3) much wider than the unlearning shift (1): a threshold on the
    # raw statistic barely separates, the per-example test does. The gap U-LiRA exists for.
    rng = np.random.default_rng(seed)
    world = _shadow_world(rng, shift=1.0)
    pos, neg = _ulira(*world)
    assert auc(pos, neg) > auc(world[3], world[4]) + 0.1


def test_offline_ulira_misses_over_forgetting_that_online_catches(seed):
    # An unlearned model less confident than the retrained one (shift < 0): the one-sided offline
    # test scores it as retrained (AUC < 1/2), the two-Gaussian test still separates it.
    rng = np.random.default_rng(seed)
    world = _shadow_world(rng, shift=-2.0)
    assert auc(*_ulira(*world, variant="offline")) < 0.5 < 0.8 < auc(*_ulira(*world))


def test_rmia_on_identical_and_separated_distributions(seed):
    rng = np.random.default_rng(seed)
    n, m, r = 1500, 500, 4

    def probs(shift, shape):
        # p = sigmoid(phi) with example-specific means, as a trained network's confidences.
        return 1 / (1 + np.exp(-(shift + rng.normal(size=shape))))

    base_x, base_z = rng.normal(-3, 1, n), rng.normal(-3, 1, m)  # away from p = 1, where ratios saturate
    ref_x, ref_z = probs(base_x, (r, n)), probs(base_z, (r, m))
    tz = probs(base_z, m)
    for shift, check in ((0.0, lambda a: abs(a - 0.5) < 4 * null_auc_sd(n, n)), (6.0, lambda a: a > 0.99)):
        pos = rmia_scores(probs(base_x + shift, n), ref_x, tz, ref_z)
        neg = rmia_scores(probs(base_x, n), ref_x, tz, ref_z)
        assert check(auc(pos, neg)), (shift, auc(pos, neg))
        assert ((0 <= pos) & (pos <= 1)).all()


def test_rmia_score_is_the_fraction_of_the_population_dominated():
    # With gamma = 1 and equal marginals, x dominates z exactly when Pr(x|theta) >= Pr(z|theta).
    ref_x, ref_z = np.full((2, 3), 0.5), np.full((2, 4), 0.5)
    s = rmia_scores(np.array([0.1, 0.35, 0.9]), ref_x, np.array([0.2, 0.3, 0.4, 0.5]), ref_z)
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])


def test_audit_summary_is_deterministic_with_a_seed():
    def run(s):
        world = _shadow_world(np.random.default_rng(s), shift=1.0, n=300)
        return audit_summary(*_ulira(*world))

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert set(run(7)) == {"auc", "tpr1", "tpr5"}


def test_pooled_fit_uses_residuals_about_each_example_mean():
    phi = np.array([[0.0, 10.0], [2.0, 14.0]])
    mu, sd = gaussian_fit(phi)
    np.testing.assert_allclose(mu, [1.0, 12.0])
    np.testing.assert_allclose(sd, np.sqrt((1 + 1 + 4 + 4) / 2))
    _, sd_each = gaussian_fit(phi, pooled=False)
    np.testing.assert_allclose(sd_each, [np.sqrt(2), np.sqrt(8)])


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        gaussian_fit(np.zeros((3, 2)), np.array([[1, 1], [0, 1], [0, 1]], bool), pooled=False)
    with pytest.raises(ValueError, match="positives and negatives"):
        auc(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        auc(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(ValueError, match="online U-LiRA"):
        ulira_scores(np.zeros(2), mu_out=np.zeros(2), sd_out=np.ones(2))
    with pytest.raises(ValueError, match="a=2"):
        rmia_scores(np.ones(1), np.ones((1, 1)), np.ones(1), np.ones((1, 1)), a=2.0)


def test_pooled_sd_shares_one_variance_between_fits_and_works_with_one_value_per_example():
    unl = np.array([[1.0, 5.0]])  # K = 1 "unlearned" value per example: no residual of its own
    ret = np.array([[0.0, 2.0], [2.0, 6.0]])
    assert pooled_sd((unl, None), (ret, None)) == pytest.approx(np.sqrt((1 + 1 + 4 + 4) / 2))
    with pytest.raises(ValueError, match="degrees of freedom"):
        pooled_sd((unl, None))


def test_rmia_reference_mask_averages_only_the_out_references():
    ref = np.array([[0.9, 0.1], [0.1, 0.1]])
    out = np.array([[False, True], [True, True]])
    z_ref, z_t = np.full((2, 1), 0.1), np.array([0.1])
    # x0's only out reference says 0.1: with the mask its marginal equals z's, so p = 0.1 ties z.
    s = rmia_scores(np.array([0.1, 0.1]), ref, z_t, z_ref, ref_mask_x=out)
    np.testing.assert_array_equal(s, [1.0, 1.0])
    assert rmia_scores(np.array([0.1, 0.1]), ref, z_t, z_ref)[0] == 0.0  # unmasked: 0.5 mean, x loses


def _forgotten_class_world(rng: np.random.Generator, *, shift: float, n: int = 400, m: int = 500, r: int = 4):
    """Class-wise forgetting in logit space: every model gives the forgotten class phi ~ -20.

    Per-example means b_j ~ N(-20, 2); retrained models (references and target) give phi ~
    N(b_j, 1), the unlearned target N(b_j + shift, 1) (it keeps a trace when shift > 0); the test
    population z is confident, phi ~ N(5, 1), under every model. Returns phi of references and
    targets for x and z (RMIA reads p = sigmoid(phi), U-LiRA phi itself)."""
    b, c = rng.normal(-20.0, 2.0, n), rng.normal(5.0, 1.0, m)
    ref_x, ref_z = b + rng.normal(size=(r, n)), c + rng.normal(size=(r, m))
    unl_x, ret_x = b + shift + rng.normal(size=n), b + rng.normal(size=n)
    unl_z, ret_z = c + rng.normal(size=m), c + rng.normal(size=m)
    return ref_x, ref_z, unl_x, ret_x, unl_z, ret_z


def _sigmoid(phi: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-phi))


def test_offline_rmia_ties_at_one_half_on_a_forgotten_class_where_the_reference_marginal_separates(seed):
    # The floor (1 - a)/2 of the paper's offline marginal puts Pr(x|theta)/Pr(x) near 1e-9 for
    # every forgotten example under both targets: no z is dominated, every score is 0, AUC 1/2
    # exactly, even though the unlearned target keeps a 3-nat trace U-LiRA sees. With a = 1 the
    # marginal is the retrained references' mean and the same attack separates.
    rng = np.random.default_rng(seed)
    ref_x, ref_z, unl_x, ret_x, unl_z, ret_z = _forgotten_class_world(rng, shift=3.0)
    p = _sigmoid

    def rmia(a: float) -> tuple[np.ndarray, np.ndarray]:
        pos = rmia_scores(p(unl_x), p(ref_x), p(unl_z), p(ref_z), a=a)
        neg = rmia_scores(p(ret_x), p(ref_x), p(ret_z), p(ref_z), a=a)
        return pos, neg

    pos, neg = rmia(0.3)
    assert (pos == 0).all() and (neg == 0).all() and auc(pos, neg) == 0.5
    # Against a confident population (ratio_z near 1) the score is nearly the sign of
    # log Pr(x|theta)/Pr(x), which caps RMIA near 0.83 in this world; 0.75 is far above 1/2.
    assert auc(*rmia(1.0)) > 0.75
    ulira = _ulira(ref_x[:2] + 3.0, np.ones((2, ref_x.shape[1]), bool), ref_x[2:], unl_x, ret_x)
    assert auc(*ulira) > 0.9  # the per-example attack on the same world: the trace is there


def test_reference_marginal_rmia_on_identical_distributions_has_auc_one_half(seed):
    # No trace (shift 0): with a = 1 the attack must not invent one.
    rng = np.random.default_rng(seed)
    ref_x, ref_z, unl_x, ret_x, unl_z, ret_z = _forgotten_class_world(rng, shift=0.0, n=1500)
    pos = rmia_scores(_sigmoid(unl_x), _sigmoid(ref_x), _sigmoid(unl_z), _sigmoid(ref_z), a=1.0)
    neg = rmia_scores(_sigmoid(ret_x), _sigmoid(ref_x), _sigmoid(ret_z), _sigmoid(ref_z), a=1.0)
    assert abs(auc(pos, neg) - 0.5) < 4 * null_auc_sd(len(pos), len(neg))


def test_rmia_orders_confidences_far_below_double_round_off():
    # p = 1e-300 and 1e-304 against references at 1e-302: the marginal must stay 1e-302 (adding
    # "+ 1 - a" after the mean rounded it to 0, and both scores to 1).
    ref_x, ref_z = np.full((2, 2), 1e-302), np.full((2, 3), 0.5)
    s = rmia_scores(np.array([1e-300, 1e-304]), ref_x, np.array([0.4, 0.5, 0.6]), ref_z, a=1.0)
    np.testing.assert_array_equal(s, [1.0, 0.0])


def test_placement_p_values_are_uniform_for_draws_of_the_shadows_process(seed):
    # A target drawn from the shadows' own Gaussian: p ~ U(0, 1) (K = 4, 4000 repetitions: the 1 %
    # and 10 % quantiles within Monte Carlo error); a target 30 SDs away: p below 1e-3.
    rng = np.random.default_rng(seed)
    p = np.array([placement(rng.normal(), rng.normal(size=4))[1] for _ in range(4000)])
    assert abs(np.mean(p < 0.01) - 0.01) < 0.006 and abs(np.mean(p < 0.1) - 0.1) < 0.02
    t, p_far = placement(30.0, np.array([-1.0, 0.0, 1.0, 0.5]))
    assert t > 0 and p_far < 1e-3
    with pytest.raises(ValueError, match="spread"):
        placement(1.0, np.ones(3))
