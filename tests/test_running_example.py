"""Tests of rbmlib.running_example: one shared, seeded batch behind every running-example number."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.experiments import simulate_methods
from rbmlib.running_example import (
    DRAWS,
    FULL_OVERLAP_SIZES,
    METHODS,
    SIZES,
    example_config,
    example_core_samples,
    example_samples,
)


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


@pytest.mark.parametrize("sizes", [SIZES, FULL_OVERLAP_SIZES], ids=["example", "full-overlap"])
def test_the_fast_engine_gives_the_same_draws_as_the_shared_batch(sizes):
    fast, dense = example_core_samples(sizes), example_samples(sizes)
    for model in ("original", "golden", "ft"):
        for metric, values in fast[model].items():
            scale = 1.0 + float(np.mean(dense["golden"]["forgetting_loss"]))
            np.testing.assert_allclose(values, dense[model][metric], rtol=1e-9, atol=1e-9 * scale)
