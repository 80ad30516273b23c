"""Tests of rbmlib.random_features: the last layer of a random-features net is Chapter 1's linear model (Chapter 7)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.descent import gradient_descent
from rbmlib.linear_model import BlockSizes
from rbmlib.random_features import (
    RF_METHODS,
    block_rf_data,
    features,
    mnist_rf_data,
    pinv_fit,
    random_first_layer,
    rf_losses,
    rf_weights,
    width_sweep,
)

SIZES = BlockSizes(d_f=12, d_o=4, d_r=12, n_f=5, n_r=10)


def _phis(data, W):
    return features(data.X_f, W), features(data.X_r, W)


def test_pinv_fit_is_the_gradient_descent_limit_for_wide_and_narrow_layers(rng):
    data = block_rf_data(SIZES, 10, rng=rng)
    for width in (6, 40):  # under- and over-parameterised in the last layer
        Phi = features(data.X_r, random_first_layer(SIZES.d, width, rng=rng))
        a0 = rng.standard_normal(width)
        gd = gradient_descent(a0, Phi, data.Y_r[:, 0], steps=20000).final
        np.testing.assert_allclose(pinv_fit(a0[:, None], Phi, data.Y_r)[:, 0], gd, rtol=1e-6, atol=1e-8)


def test_wide_layer_ft_keeps_the_original_and_narrow_layer_ft_is_the_golden_model(rng):
    data = block_rf_data(SIZES, 10, rng=rng)
    wide = rf_weights(*_phis(data, random_first_layer(SIZES.d, 200, rng=rng)), data.Y_f, data.Y_r, ratio=0.5)
    np.testing.assert_allclose(wide["ft"], wide["original"], atol=1e-8)  # p >= n: the original interpolates D_r
    narrow = rf_weights(*_phis(data, random_first_layer(SIZES.d, 8, rng=rng)), data.Y_f, data.Y_r, ratio=0.5)
    np.testing.assert_allclose(narrow["ft"], narrow["golden"], atol=1e-8)  # p <= n_r: a unique least-squares fit
    np.testing.assert_allclose(narrow["rbm"], narrow["golden"], atol=1e-8)


def test_feature_saliency_is_dense_so_the_mask_keeps_the_ratio(rng):
    data = block_rf_data(SIZES, 10, rng=rng)
    Phi_f, Phi_r = _phis(data, random_first_layer(SIZES.d, 100, rng=rng))
    h = np.mean(Phi_r**2, axis=0)
    assert np.mean(h > 0) > 0.9  # ReLU features are active for almost every retain input: no support to read
    weights = rf_weights(Phi_f, Phi_r, data.Y_f, data.Y_r, ratio=0.3)
    assert set(weights) == set(RF_METHODS)


def test_rbm_reset_on_features_breaks_the_remaining_fit_unlike_the_block_model(rng):
    from rbmlib.masks import free_fraction

    data = block_rf_data(SIZES, 10, rng=rng)
    Phi_f, Phi_r = _phis(data, random_first_layer(SIZES.d, 100, rng=rng))
    w_o = rf_weights(Phi_f, Phi_r, data.Y_f, data.Y_r, ratio=0.5)["original"]
    keep = ~free_fraction(np.mean(Phi_r**2, axis=0), 0.5, free="least")
    broken = np.mean((Phi_r @ (w_o * keep[:, None]) - data.Y_r) ** 2)
    assert broken > 1e-3 * np.mean(data.Y_r**2)  # Proposition 4.2 (1) needed a support; features have none


def test_losses_and_sweep_have_the_documented_shape(rng):
    data = block_rf_data(SIZES, 10, rng=rng)
    losses = rf_losses(data, random_first_layer(SIZES.d, 50, rng=rng), ratio=0.5)
    assert losses["ft"]["forgetting_loss"] < 1e-12 < losses["golden"]["forgetting_loss"]
    table = width_sweep(data, [5, 50], ratio=0.5, generators=np.random.default_rng(0).spawn(2))
    assert set(table.columns) == {"trial", "width", "method", "metric", "value"}
    assert len(table) == 2 * 2 * len(RF_METHODS) * 3


def test_mnist_split_is_one_vs_rest_and_disjoint():
    data = mnist_rf_data(200, 20, 100, rng=np.random.default_rng(0))
    assert data.X_f.shape == (20, 784) and data.X_r.shape == (180, 784) and data.X_test.shape == (100, 784)
    np.testing.assert_allclose(data.Y_r.sum(axis=1), 0.0, atol=1e-12)  # centred one-hot rows
    assert data.X_r.max() <= 1.0
    with pytest.raises(ValueError, match="n_forget < n_train"):
        mnist_rf_data(100, 100, 10, rng=np.random.default_rng(0))


@pytest.mark.parametrize("d_in, width", [(0, 3), (3, 0)])
def test_bad_layer_sizes_are_refused(d_in, width):
    with pytest.raises(ValueError, match="must be >= 1"):
        random_first_layer(d_in, width, rng=np.random.default_rng(0))
