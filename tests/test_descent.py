"""Tests of rbmlib.descent: numpy GD and torch SGD reach the closed forms (Chapter 1)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.descent import gradient_descent, relative_error, step_size, torch_sgd, unlearning_trajectories
from rbmlib.linear_model import BlockSizes, fit_models, sample_instance

SIZES = BlockSizes(d_f=20, d_o=6, d_r=24, n_f=6, n_r=12)
STEPS = 3000
TOLERANCE = 1e-8


@pytest.fixture
def instance(rng):
    return sample_instance(SIZES, rng=rng)


@pytest.mark.parametrize("solver", ["numpy", "torch"])
def test_descent_reaches_every_closed_form(instance, solver):
    fits = fit_models(instance)
    zero = np.zeros(SIZES.d)
    cases = [
        (zero, instance.X, instance.y, fits.w_o),
        (zero, instance.X_r, instance.y_r, fits.w_g),
        (fits.w_o, instance.X_r, instance.y_r, fits.w_t),
    ]
    for w0, X, y, w_ref in cases:
        w = gradient_descent(w0, X, y, steps=STEPS).final if solver == "numpy" else torch_sgd(w0, X, y, steps=STEPS)
        assert relative_error(w, w_ref) <= TOLERANCE


def test_numpy_and_torch_take_the_same_steps(instance):
    path = gradient_descent(np.zeros(SIZES.d), instance.X, instance.y, steps=25)
    w = torch_sgd(np.zeros(SIZES.d), instance.X, instance.y, steps=25)
    np.testing.assert_allclose(w, path.final, rtol=1e-10, atol=1e-12)


def test_finetuning_from_the_original_does_not_move_it(instance):
    w_o = fit_models(instance).w_o
    path = gradient_descent(w_o, instance.X_r, instance.y_r, steps=50)
    np.testing.assert_allclose(path.iterates, np.broadcast_to(w_o, path.iterates.shape), atol=1e-12)


def test_iterates_stay_in_the_start_plus_row_space(instance):
    w0 = np.ones(SIZES.d)
    path = gradient_descent(w0, instance.X_r, instance.y_r, steps=10)
    # X_r is zero on S_f, so descent on D_r never touches the forget-only coordinates.
    np.testing.assert_array_equal(path.iterates[:, : SIZES.d_f], 1.0)


def test_step_size_is_inverse_hessian_norm(rng):
    X = rng.standard_normal((7, 13))
    hessian = 2 / 7 * X.T @ X
    assert np.isclose(step_size(X), 1 / np.linalg.eigvalsh(hessian).max())


def test_trajectories_end_at_zero_remaining_loss_and_golden_forgetting_loss(instance):
    paths = unlearning_trajectories(instance, steps=STEPS)
    last = paths.groupby(["stage", "data"])["loss"].last()
    golden_forget = float(np.mean((instance.X_f @ fit_models(instance).w_g - instance.y_f) ** 2))
    assert last["retrain", "remaining"] < 1e-16
    assert last["fine-tune", "forgetting"] < 1e-16
    assert np.isclose(last["retrain", "forgetting"], golden_forget, rtol=1e-7)
    assert set(paths.columns) == {"run", "stage", "step", "data", "loss"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": -1}, "steps must be >= 0, got -1"),
        ({"steps": 3, "lr": 0.0}, "lr must be > 0, got 0.0"),
    ],
)
def test_descent_rejects_bad_settings(instance, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_descent(np.zeros(SIZES.d), instance.X, instance.y, **kwargs)


def test_descent_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"shapes do not match: w_init \(3,\), X \(2, 4\)"):
        gradient_descent(np.zeros(3), np.ones((2, 4)), np.ones(2), steps=1)


def test_relative_error_rejects_zero_reference():
    with pytest.raises(ValueError, match="w_ref is zero"):
        relative_error(np.ones(3), np.zeros(3))


def test_early_stopping_curve_starts_at_the_golden_model_and_falls_to_zero(rng):
    from rbmlib.descent import early_stopping_curve
    from rbmlib.linear_model import BlockSizes, fit_models, forgetting_loss, sample_instance

    inst = sample_instance(BlockSizes(d_f=12, d_o=4, d_r=16, n_f=4, n_r=8), rng=rng)
    curve = early_stopping_curve(inst, steps=[0, 3, 30, 3000])
    golden = float(forgetting_loss(fit_models(inst).w_g, inst))
    assert curve["ft_forgetting_loss"].iloc[0] == pytest.approx(golden, rel=1e-9)  # k = 0: FT is the retrain
    assert curve["ft_forgetting_loss"].iloc[-1] < 1e-12 * golden  # converged original: FT keeps 0
    assert np.all(np.diff(curve["ft_forgetting_loss"].to_numpy()) < 0)


@pytest.mark.parametrize("steps", [[], [-1], [1.5]])
def test_early_stopping_curve_rejects_bad_budgets(rng, steps):
    from rbmlib.descent import early_stopping_curve
    from rbmlib.linear_model import BlockSizes, sample_instance

    inst = sample_instance(BlockSizes(d_f=4, d_o=2, d_r=4, n_f=2, n_r=2), rng=rng)
    with pytest.raises(ValueError, match="steps must be a non-empty sequence of integers >= 0"):
        early_stopping_curve(inst, steps=steps)
