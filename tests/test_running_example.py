"""Tests of rbmlib.running_example: one shared, seeded batch behind every running-example number."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.experiments import simulate_methods
from rbmlib.running_example import DRAWS, METHODS, SIZES, example_config, example_samples


def test_the_shared_batch_is_computed_once_and_read_only():
    first = example_samples()
    assert example_samples() is first
    assert set(first) == set(METHODS) and first["golden"]["forgetting_loss"].shape == (DRAWS,)
    with pytest.raises(ValueError, match="read-only"):
        first["rbm"]["forgetting_loss"][0] = 0.0


def test_the_shared_batch_is_a_pure_function_of_its_config():
    again = simulate_methods(example_config(SIZES), methods=("golden", "rbm"))
    for model in ("golden", "rbm"):
        np.testing.assert_array_equal(again[model]["forgetting_loss"], example_samples()[model]["forgetting_loss"])
