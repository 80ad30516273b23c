"""Tests of rbmlib.disparity: gaps to the golden model."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.disparity import gap_summary, gaps

SAMPLES = {
    "golden": {"a": np.array([1.0, 2.0]), "b": np.array([0.0, 0.0])},
    "x": {"a": np.array([3.0, 1.0]), "b": np.array([1.0, -1.0])},
}


def test_gaps_are_paired_absolute_differences_and_their_average():
    out = gaps(SAMPLES)
    np.testing.assert_array_equal(out["x"]["a"], [2.0, 1.0])
    np.testing.assert_array_equal(out["x"]["b"], [1.0, 1.0])
    np.testing.assert_array_equal(out["x"]["avg_gap"], [1.5, 1.0])
    np.testing.assert_array_equal(out["golden"]["avg_gap"], [0.0, 0.0])


def test_summary_averages_over_draws_and_skips_the_reference():
    summary = gap_summary(SAMPLES)
    assert summary.index.name == "method" and list(summary.index) == ["x"]
    assert summary.loc["x"].to_dict() == {"a": 1.5, "b": 1.0, "avg_gap": 1.25}


def test_missing_reference_or_metric_is_rejected():
    with pytest.raises(ValueError, match="reference model 'retrain' is not among the models"):
        gaps(SAMPLES, reference="retrain")
    with pytest.raises(ValueError, match="model 'y' has metrics"):
        gaps({**SAMPLES, "y": {"a": np.zeros(2)}})


def test_recovered_fraction_matches_a_bootstrap_of_paired_draws():
    from rbmlib.disparity import recovered_fraction

    rng = np.random.default_rng(11)
    g = rng.gamma(5.0, 2.0, size=400)
    a = 0.6 * g + rng.normal(0, 1.0, size=400)
    rho, se = recovered_fraction(a, g)
    assert rho == pytest.approx(a.mean() / g.mean())
    boot = np.random.default_rng(12).integers(0, 400, size=(4000, 400))
    ratios = a[boot].mean(axis=1) / g[boot].mean(axis=1)
    assert se == pytest.approx(ratios.std(ddof=1), rel=0.1)


def test_recovered_fraction_rejects_unpaired_or_zero_golden_losses():
    from rbmlib.disparity import recovered_fraction

    with pytest.raises(ValueError, match="paired 1-d samples"):
        recovered_fraction(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="golden forgetting loss must be positive"):
        recovered_fraction(np.ones(3), np.zeros(3))
