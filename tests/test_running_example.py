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
    SMALL_SIZES,
    early_stopping_instance,
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


def test_the_early_stopping_instance_is_reproducible_and_what_claim_c2_quotes():
    from rbmlib.claims import EARLY_STOPPING_STEPS, verdict_c2
    from rbmlib.descent import early_stopping_curve

    first, again = early_stopping_instance(), early_stopping_instance(SMALL_SIZES)
    np.testing.assert_array_equal(first.X_f, again.X_f)
    assert first.X_f.shape == (SMALL_SIZES.n_f, SMALL_SIZES.d)
    curve = early_stopping_curve(first, steps=EARLY_STOPPING_STEPS)
    ratio = curve["ft_forgetting_loss"].iloc[1] / curve["ft_forgetting_loss"].iloc[0]
    assert 0 < ratio < 1  # an early-stopped original leaves FT part of the golden loss
    assert f"{ratio:.2g} after {EARLY_STOPPING_STEPS[1]}" in verdict_c2().evidence
