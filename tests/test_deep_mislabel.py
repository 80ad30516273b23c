"""Mislabelled forget sets (rbmlib.deep.mislabel)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rbmlib.deep.mislabel import mislabel, noisy_fraction


def test_every_chosen_label_becomes_a_wrong_class_and_the_rest_is_untouched(rng):
    y = torch.from_numpy(rng.integers(0, 10, 500))
    idx = rng.choice(500, 50, replace=False)
    out = mislabel(y, idx, 10, rng=np.random.default_rng(1))
    assert (out[idx] != y[idx]).all() and ((out >= 0) & (out < 10)).all()
    rest = np.setdiff1d(np.arange(500), idx)
    assert torch.equal(out[rest], y[rest]) and not torch.equal(out, y)
    assert torch.equal(y, torch.from_numpy(y.numpy().copy()))  # the input is not modified


def test_wrong_labels_are_uniform_over_the_other_classes():
    y = torch.zeros(30_000, dtype=torch.int64)
    out = mislabel(y, np.arange(30_000), 4, rng=np.random.default_rng(0))
    counts = np.bincount(out.numpy(), minlength=4)
    assert counts[0] == 0 and np.allclose(counts[1:] / 30_000, 1 / 3, atol=0.01)


def test_scenario_text_and_bad_input():
    assert noisy_fraction("noisy:0.1") == 0.1 and noisy_fraction("random:0.1") is None
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        noisy_fraction("noisy:1.5")
    with pytest.raises(ValueError, match="not a number"):
        noisy_fraction("noisy:x")
    with pytest.raises(ValueError, match="distinct"):
        mislabel(torch.zeros(3, dtype=torch.int64), np.array([1, 1]), 3, rng=np.random.default_rng(0))
