"""Paired bootstrap intervals and the C7 verdict rule (rbmlib.deep.stats)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rbmlib.claims import VERDICTS
from rbmlib.deep.stats import (
    c7_verdict,
    compare,
    comparison_table,
    default_pairs,
    format_interval,
    paired_bootstrap_ci,
    scenario_outcome,
)


def test_bootstrap_interval_contains_the_mean_and_is_seeded(rng):
    d = rng.normal(1.0, 0.5, 8)
    mean, lo, hi = paired_bootstrap_ci(d, rng=np.random.default_rng(3))
    assert lo <= mean <= hi and mean == pytest.approx(d.mean())
    assert (mean, lo, hi) == paired_bootstrap_ci(d, rng=np.random.default_rng(3))
    assert d.min() <= lo and hi <= d.max()


def test_bootstrap_interval_of_constant_differences_is_a_point():
    assert paired_bootstrap_ci([2.0, 2.0, 2.0], rng=np.random.default_rng(0)) == (2.0, 2.0, 2.0)


def test_bootstrap_needs_two_finite_differences():
    with pytest.raises(ValueError, match="at least 2"):
        paired_bootstrap_ci([1.0], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN"):
        paired_bootstrap_ci([1.0, np.nan], rng=np.random.default_rng(0))


def _table(ua: dict[str, list[float]], scenario: str = "random:0.1") -> pd.DataFrame:
    """Tidy rows whose UA per method and seed is given; Retrain UA 0, other metrics equal."""
    rows = []
    for method, values in {"retrain": [0.0] * len(next(iter(ua.values()))), **ua}.items():
        for seed, u in enumerate(values):
            rows.append(
                {
                    "dataset": "d",
                    "scenario": scenario,
                    "method": method,
                    "mask_ratio": np.nan if method in ("retrain", "rl") else 0.5,
                    "seed": seed,
                    "ua": u,
                    "ra": 99.0,
                    "ta": 95.0,
                    "mia": 10.0,
                    "avg_gap": u / 4,
                    "split_sha256": f"s{seed}",
                }
            )
    return pd.DataFrame(rows)


def test_pairing_by_seed_removes_shared_seed_noise():
    # Seed-to-seed swings of +-10 shared by both methods; the paired difference is exactly 1.
    base = [0.0, 10.0, -10.0, 5.0, -5.0]
    t = _table({"salun": [b + 20 for b in base], "rbm": [b + 21 for b in base], "random": [b + 30 for b in base]})
    rows = {(r["method"], r["baseline"], r["metric"]): r for r in compare(t, seed=0)}
    r = rows[("rbm", "salun", "ua")]
    assert (r["diff"], r["ci_low"], r["ci_high"], r["n"]) == pytest.approx((1.0, 1.0, 1.0, 5))
    assert rows[("salun", "random", "avg_gap")]["ci_high"] < 0


def test_pairs_only_share_a_split_hash():
    t = _table({"salun": [1, 2, 3], "rbm": [1, 2, 3]})
    t.loc[(t["method"] == "rbm") & (t["seed"] > 0), "split_sha256"] = "other"
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        compare(t, seed=0)


def test_default_pairs_match_ratios_and_flag_the_primary_arms():
    arms = ["retrain", "salun:0.3", "salun:0.5", "rbm:0.5", "random:0.5", "random:0.3", "rl"]
    pairs = default_pairs(arms, {"salun": "salun:0.3", "random": "random:0.3", "rbm": "rbm:0.5", "rl": "rl"})
    assert ("rbm:0.5", "salun:0.3", True) in pairs and ("salun:0.3", "random:0.3", True) in pairs
    assert ("rbm:0.5", "salun:0.5", False) in pairs and ("salun:0.5", "random:0.5", False) in pairs
    assert sum(p[2] for p in pairs) == 4  # rbm-salun, salun-random, salun-rl, rbm-random
    assert ("rbm", "salun", True) in default_pairs(["rbm", "salun"])


def _cmp(scenario, rbm_salun, salun_random, metric_gaps=None):
    rows = [
        {
            "scenario": scenario,
            "method": "rbm",
            "baseline": "salun",
            "metric": "avg_gap",
            "diff": sum(rbm_salun) / 2,
            "ci_low": rbm_salun[0],
            "ci_high": rbm_salun[1],
        },
        {
            "scenario": scenario,
            "method": "salun",
            "baseline": "random",
            "metric": "avg_gap",
            "diff": sum(salun_random) / 2,
            "ci_low": salun_random[0],
            "ci_high": salun_random[1],
        },
    ]
    for m, (lo, hi) in (metric_gaps or {}).items():
        rows.append(
            {
                "scenario": scenario,
                "method": "rbm",
                "baseline": "salun",
                "metric": m,
                "diff": (lo + hi) / 2,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return rows


POWER, NO_POWER = (-0.5, -0.1), (-0.2, 0.3)


@pytest.mark.parametrize(
    ("cases", "verdict"),
    [
        ([((-1.0, -0.5), POWER)], "holds"),
        ([((-1.0, -0.5), POWER), ((-1.0, -0.5), NO_POWER)], "holds under stated conditions"),
        ([((-1.0, -0.5), POWER), ((-0.2, 0.2), POWER)], "holds under stated conditions"),
        ([((-0.2, 0.2), POWER)], "inconclusive"),  # a tie is not a failure
        ([((-1.0, -0.5), NO_POWER)], "inconclusive"),  # no power: cannot decide
        ([((0.5, 1.0), POWER), ((-0.2, 0.2), POWER)], "fails"),
        ([((0.5, 1.0), POWER), ((-1.0, -0.5), POWER)], "trade-off"),
    ],
)
def test_c7_verdict_rule(cases, verdict):
    comparisons = [r for i, (a, b) in enumerate(cases) for r in _cmp(f"s{i}", a, b)]
    got, conditions, evidence = c7_verdict(comparisons)
    assert got == verdict and got in VERDICTS
    assert "s0" in evidence and "s0" in conditions


def test_better_gap_but_worse_metric_is_a_trade_off():
    rows = _cmp("s", (-1.0, -0.5), POWER, {"ra_gap": (0.2, 0.4), "ua_gap": (-2.0, -1.0)})
    assert scenario_outcome(rows, "s") == "trade-off"
    rows = _cmp("s", (-0.2, 0.2), POWER, {"ra_gap": (0.2, 0.4), "ua_gap": (-2.0, -1.0)})
    assert scenario_outcome(rows, "s") == "trade-off"
    assert scenario_outcome(_cmp("s", (-0.2, 0.2), POWER, {"ra_gap": (0.2, 0.4)}), "s") == "tie"


def test_an_interval_does_not_change_when_other_arms_are_added():
    t = _table({"salun": [1.0, 2.0, 4.0, 3.0], "rbm": [0.5, 2.5, 3.0, 3.5]})
    more = _table({"salun": [1.0, 2.0, 4.0, 3.0], "rbm": [0.5, 2.5, 3.0, 3.5], "random": [5.0, 6.0, 5.0, 7.0]})

    def pick(rows):
        return next(r for r in rows if (r["method"], r["baseline"], r["metric"]) == ("rbm", "salun", "avg_gap"))

    assert pick(compare(t, seed=4)) == pick(compare(more, seed=4))


def test_an_interval_bound_near_zero_keeps_its_sign_readable():
    assert format_interval(-0.21, -0.89, 0.67) == "−0.21 [−0.89, +0.67]"  # a true minus sign
    assert format_interval(-0.0634, -0.1041, -0.0031) == "−0.063 [−0.104, −0.003]"  # not "−0.00"
    assert format_interval(0.0, 0.0, 0.0) == "0.00 [0.00, 0.00]"
    assert "−0.00" in format_interval(-0.05, -0.1, -1e-9)  # tiny but negative: still reads negative
    assert "-" not in format_interval(-0.05, -0.1, -1e-9)


def test_the_paired_table_uses_the_readable_intervals():
    rows = [{**r, "primary": True} for r in _cmp("class:3", (-0.104, -0.004), POWER)]
    table = comparison_table(rows, labels={"rbm": "RBM", "salun": "SalUn", "random": "random mask"})
    assert table.loc["RBM − SalUn", "class:3"] == "−0.054 [−0.104, −0.004]"
    assert table.loc["SalUn − random mask", "class:3"] == "−0.30 [−0.50, −0.10]"


def test_the_verdict_reads_display_names_not_identifiers():
    rows = _cmp("class:3", (-1.0, -0.5), POWER, {"ra_gap": (-0.4, -0.2)})
    rows += _cmp("random:0.1", (-0.2, 0.2), POWER, {"ra_gap": (-0.4, -0.2), "ua_gap": (0.2, 0.4)})
    verdict, conditions, evidence = c7_verdict(rows)
    assert verdict == "trade-off"  # a win in one scenario and a trade-off in the other
    assert conditions == 'win under class "3"; trade-off under random 10\u00a0%'
    assert evidence.startswith('class "3" (win): Avg. Gap of RBM − SalUn −0.75 [−1.00, −0.50], ')
    assert "of SalUn − random mask −0.30 [−0.50, −0.10]" in evidence
    assert "RBM's RA gap smaller and UA gap larger" in evidence
    for raw in ("class:3", "random:0.1", "ra_gap", "salun", "rbm:", "-0."):
        assert raw not in evidence and raw not in conditions
