"""Tests of rbmlib.regularisation: weight-decay descent in closed form against the iterated updates (Chapter 7)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.linear_model import BlockSizes, fit_models, row_space_projector, sample_instance
from rbmlib.regularisation import (
    budget_plane,
    check_lr,
    check_ridge,
    check_steps,
    curvature_max,
    default_lr,
    descend,
    early_stopping_curve,
    heavy_ball_null_decay,
    iterate_weight_decay,
    null_space_decay,
    ridge_finetune,
    ridge_fit,
    simulate_budget_plane,
    spectrum,
    steps_for_decay,
    steps_per_epoch,
    steps_to_fraction,
)

SIZES = BlockSizes(d_f=20, d_o=6, d_r=24, n_f=6, n_r=12)
TIGHT = 1e-10


@pytest.fixture
def inst(rng):
    return sample_instance(SIZES, rng=rng)


def _lr(inst, lam):
    return default_lr(max(curvature_max(inst.X), curvature_max(inst.X_r)), lam)


@pytest.mark.parametrize("lam", [0.0, 0.05, 1.0])
def test_closed_form_descent_equals_iterated_updates_from_any_start(inst, lam, rng):
    lr = _lr(inst, lam)
    starts = np.stack([fit_models(inst).w_o, rng.standard_normal(SIZES.d), np.zeros(SIZES.d)])
    ks = [0, 1, 7, 60, 500]
    closed = descend(spectrum(inst.X_r, inst.y_r), starts, ks, lam=lam, lr=lr)
    iterated = iterate_weight_decay(starts, inst.X_r, inst.y_r, lam=lam, lr=lr, record=ks)
    np.testing.assert_allclose(closed, iterated, rtol=0, atol=TIGHT * np.abs(iterated).max())


def test_weight_decay_matches_torch_sgd_convention(inst):
    torch = pytest.importorskip("torch")
    lam, steps = 0.3, 40
    lr = _lr(inst, lam)
    w = torch.nn.Parameter(torch.from_numpy(fit_models(inst).w_o.copy()))
    opt = torch.optim.SGD([w], lr=lr, weight_decay=lam)  # adds lam * w to the gradient of the mean loss
    X, y = torch.from_numpy(inst.X_r), torch.from_numpy(inst.y_r)
    for _ in range(steps):
        opt.zero_grad()
        torch.mean((X @ w - y) ** 2).backward()
        opt.step()
    closed = descend(spectrum(inst.X_r, inst.y_r), fit_models(inst).w_o, steps, lam=lam, lr=lr)
    np.testing.assert_allclose(w.detach().numpy(), closed, rtol=1e-10, atol=1e-12)


def test_finetuning_limit_with_weight_decay_is_the_regularised_retrain_whatever_the_start(inst, rng):
    for start in (fit_models(inst).w_o, 10 * rng.standard_normal(SIZES.d)):
        np.testing.assert_allclose(
            ridge_finetune(start, inst.X_r, inst.y_r, 0.1), ridge_fit(inst.X_r, inst.y_r, 0.1), atol=1e-10
        )
        lim = descend(spectrum(inst.X_r, inst.y_r), start, None, lam=0.1, lr=_lr(inst, 0.1))
        np.testing.assert_allclose(lim, ridge_fit(inst.X_r, inst.y_r, 0.1), atol=1e-10)


def test_without_weight_decay_the_limit_is_chapter_one_fit(inst):
    fits = fit_models(inst)
    np.testing.assert_allclose(ridge_finetune(fits.w_o, inst.X_r, inst.y_r, 0.0), fits.w_t, atol=1e-10)
    np.testing.assert_allclose(ridge_fit(inst.X_r, inst.y_r, 0.0), fits.w_g, atol=1e-10)
    lim = descend(spectrum(inst.X_r, inst.y_r), fits.w_o, None, lam=0.0, lr=_lr(inst, 0.0))
    np.testing.assert_allclose(lim, fits.w_t, atol=1e-10)


def test_ridge_fit_solves_the_normal_equations(inst):
    lam, n = 0.2, SIZES.n_r
    w = ridge_fit(inst.X_r, inst.y_r, lam)
    grad = 2 / n * inst.X_r.T @ (inst.X_r @ w - inst.y_r) + lam * w
    assert np.abs(grad).max() < 1e-10


def test_component_outside_the_row_space_decays_like_one_minus_eta_lambda(inst):
    lam, k = 0.05, 37
    lr = _lr(inst, lam)
    w0 = fit_models(inst).w_o
    w_lam = ridge_fit(inst.X_r, inst.y_r, lam)
    null = np.eye(SIZES.d) - row_space_projector(inst.X_r)
    w_k = descend(spectrum(inst.X_r, inst.y_r), w0, k, lam=lam, lr=lr)
    np.testing.assert_allclose(null @ (w_k - w_lam), null_space_decay(lr, lam, k) * (null @ (w0 - w_lam)), atol=1e-10)


def test_heavy_ball_decay_matches_torch_momentum():
    torch = pytest.importorskip("torch")
    lr, lam, beta, steps = 0.05, 0.2, 0.9, 30
    w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=lr, momentum=beta, weight_decay=lam)
    for _ in range(steps):
        opt.zero_grad()
        (0.0 * w.sum()).backward()  # zero data gradient: only the decay acts (a null-space direction)
        opt.step()
    assert heavy_ball_null_decay(lr, lam, beta, steps) == pytest.approx(float(w.detach()), rel=1e-12)
    assert heavy_ball_null_decay(lr, lam, 0.0, steps) == pytest.approx((1 - lr * lam) ** steps, rel=1e-12)


def test_steps_for_decay_is_the_first_step_below_the_fraction():
    k = steps_for_decay(0.01, 5e-4, 0.5)
    assert null_space_decay(0.01, 5e-4, k) <= 0.5 < null_space_decay(0.01, 5e-4, k - 1)


def test_steps_to_fraction_is_a_crossing_of_the_closed_form(inst):
    lam = 0.1
    lr = _lr(inst, lam)
    w0 = fit_models(inst).w_o
    k = steps_to_fraction(w0, inst.X_r, inst.y_r, inst.X_f, inst.y_f, lam=lam, lr=lr, fraction=0.5)
    spec = spectrum(inst.X_r, inst.y_r)

    def loss(s):
        return np.mean((inst.X_f @ descend(spec, w0, s, lam=lam, lr=lr) - inst.y_f) ** 2)

    target = 0.5 * np.mean((inst.X_f @ ridge_fit(inst.X_r, inst.y_r, lam) - inst.y_f) ** 2)
    assert k >= 1 and loss(k) >= target > loss(k - 1)


def test_budget_plane_closed_form_equals_simulation(inst):
    lr = 0.9 * _lr(inst, 0.0)
    args = (inst.X, inst.y, inst.X_r, inst.y_r, inst.X_f, inst.y_f, [0, 3, 40, 300], [0, 5, 80, 400])
    closed, simulated = budget_plane(*args, lr=lr), simulate_budget_plane(*args, lr=lr)
    np.testing.assert_allclose(closed, simulated, rtol=1e-9, atol=1e-12)


def test_early_stopping_curve_ends_at_golden_and_at_zero(inst):
    lr = _lr(inst, 0.0)
    curve = early_stopping_curve(inst.X, inst.y, inst.X_r, inst.y_r, inst.X_f, inst.y_f, [0, 100000], lr=lr)
    golden = np.mean((inst.X_f @ fit_models(inst).w_g - inst.y_f) ** 2)
    assert curve[0] == pytest.approx(golden, rel=1e-9)
    assert curve[1] < 1e-12 * golden


def test_steps_per_epoch_of_salun_recipe():
    assert steps_per_epoch(45_000, 256) == 176


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf")])
def test_bad_ridge_is_refused(bad):
    with pytest.raises(ValueError, match="lambda must be finite and >= 0"):
        check_ridge(bad)


@pytest.mark.parametrize("bad", [-1, "2.5", "x", 2.5, True, "-4", "--5", "1e3", ""])
def test_bad_steps_are_refused(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        check_steps(bad)


@pytest.mark.parametrize("lr", [0.0, -0.1, 2.0, float("nan")])
def test_step_size_outside_the_stable_range_is_refused(lr):
    with pytest.raises(ValueError, match="stable range"):
        check_lr(lr, a_max=0.9, lam=0.1)
    assert check_lr(1.99, a_max=0.9, lam=0.1) == 1.99


def test_budget_grid_has_the_asked_number_of_distinct_budgets():
    from rbmlib.regularisation import budget_grid

    for points, k_max in ((2, 5), (40, 3000), (40, 10_000), (10, 10)):
        grid = budget_grid(points, k_max)
        assert len(grid) == points and len(set(grid)) == points
        assert grid[0] == 0 and grid[-1] == k_max and np.all(np.diff(grid) > 0)


def test_iterated_monte_carlo_agrees_with_closed_form_within_four_standard_errors(seed):
    """Closed form on one stream of draws, iterated descent on an independent stream: the means agree."""
    from scipy.stats import sem

    from rbmlib.linear_model import sample_instances
    from rbmlib.regularisation import common_lr, finetune_forgetting

    theory_stream, mc_stream = np.random.default_rng(seed).spawn(2)
    theory_draws, mc_draws = sample_instances(SIZES, 80, rng=theory_stream), sample_instances(SIZES, 40, rng=mc_stream)
    lam, ks = 0.1, [5, 50, 400]
    lr = min(common_lr(theory_draws, lam), common_lr(mc_draws, lam))
    theory = finetune_forgetting(theory_draws, fit_models(theory_draws).w_o, ks, lam=lam, lr=lr)
    simulated = finetune_forgetting(mc_draws, fit_models(mc_draws).w_o, ks, lam=lam, lr=lr, iterate=True)
    z = (simulated.mean(0) - theory.mean(0)) / np.hypot(sem(simulated), sem(theory))
    assert np.all(np.abs(z) < 4), f"seed={seed}: z = {z}"
