"""Tests of rbmlib.simulation: the batched Monte Carlo engine."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.linear_model import BlockSizes, fit_models, forgetting_loss, sample_instances
from rbmlib.simulation import METRICS, SimulationConfig, simulate, summarise

SIZES = BlockSizes(d_forget=16, d_shared=4, d_retain=20, n_forget=4, n_retain=8)


def test_results_do_not_depend_on_the_batch_size():
    small = simulate(SimulationConfig(SIZES, draws=37, seed=5, batch_size=4))
    large = simulate(SimulationConfig(SIZES, draws=37, seed=5, batch_size=256))
    for model in small:
        for metric in METRICS:
            np.testing.assert_allclose(small[model][metric], large[model][metric], rtol=1e-10, atol=1e-24)


def test_simulation_matches_direct_per_instance_computation():
    cfg = SimulationConfig(SIZES, draws=6, seed=2, noise=0.3)
    samples = simulate(cfg)
    batch = sample_instances(SIZES, 6, rng=np.random.default_rng(2), noise=0.3)
    np.testing.assert_allclose(samples["golden"]["forgetting_loss"], forgetting_loss(fit_models(batch).w_g, batch), rtol=1e-12)


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    a = simulate(SimulationConfig(SIZES, draws=10, seed=1))
    b = simulate(SimulationConfig(SIZES, draws=10, seed=1))
    c = simulate(SimulationConfig(SIZES, draws=10, seed=2))
    np.testing.assert_array_equal(a["golden"]["forgetting_loss"], b["golden"]["forgetting_loss"])
    assert not np.allclose(a["golden"]["forgetting_loss"], c["golden"]["forgetting_loss"])


def test_summary_reports_mean_and_standard_error():
    samples = {"m": {"x": np.array([1.0, 2.0, 3.0, 6.0])}}
    (row,) = summarise(samples)
    assert row == {"model": "m", "x": {"mean": 3.0, "se": pytest.approx(np.std([1, 2, 3, 6], ddof=1) / 2)}}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"draws": 1}, "draws must be >= 2"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"noise": -1.0}, "noise must be finite and >= 0, got -1.0"),
    ],
)
def test_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig(SIZES, **kwargs)
