r"""Paired comparisons of unlearning methods with bootstrap intervals, and the C7 verdict (Chapter 6).

Two methods run on the same (dataset, scenario, seed, split) share the split, the original model
and the Retrain reference, so their difference is measured **per seed**: for a metric $M$,

.. math::

    d_s = M_A(s) - M_B(s), \qquad \bar d = \frac1n \sum_{s=1}^n d_s ,

and the 95 % interval of $\bar d$ is the percentile bootstrap over seeds (resample the $n$ paired
differences with replacement, $B$ times, take the 2.5 % and 97.5 % quantiles of the resampled
means). Pairing removes the seed-to-seed variation that both methods share (which split, which
original), the dominant noise of class-wise forgetting.

Metrics compared: the raw ``ua``, ``ra``, ``ta``, ``mia`` (percentage points), ``avg_gap``, and the
per-metric gaps to Retrain ``<m>_gap`` $= |M - M_{\text{Retrain}}|$ (lower is better, like
Avg. Gap); the verdict reads ``avg_gap`` and the four ``<m>_gap``.

The verdict rule of claim C7 is defined once, in :func:`c7_verdict`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rbmlib.claims import VERDICTS
from rbmlib.deep.display import GAP_NAMES
from rbmlib.deep.metrics import METRIC_NAMES
from rbmlib.presentation import join_words, label, scenario_label
from rbmlib.validators import fraction

__all__ = [
    "COMPARED_METRICS",
    "GAP_METRICS",
    "PAIR_KEYS",
    "c7_verdict",
    "compare",
    "comparison_table",
    "WANTED_PAIRS",
    "default_pairs",
    "format_interval",
    "paired_bootstrap_ci",
    "scenario_outcome",
]

#: Columns that identify one paired draw: runs sharing them share split, original and Retrain.
PAIR_KEYS: tuple[str, ...] = ("dataset", "scenario", "seed", "split_sha256")
#: Per-metric distances to Retrain, lower is better.
GAP_METRICS: tuple[str, ...] = tuple(f"{m}_gap" for m in METRIC_NAMES)
#: Every metric :func:`compare` reports.
COMPARED_METRICS: tuple[str, ...] = (*METRIC_NAMES, "avg_gap", *GAP_METRICS)


def paired_bootstrap_ci(
    d: Sequence[float], *, rng: np.random.Generator, n_boot: int = 10_000, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of paired differences and its percentile-bootstrap interval.

    Parameters
    ----------
    d : sequence of float, shape (n,)
        Paired differences $d_s$, one per seed, $n \\ge 2$.
    rng : numpy.random.Generator
        Source of the resampling.
    n_boot : int
        Bootstrap resamples $B$.
    level : float
        Coverage of the interval, in ``(0, 1)``.

    Returns
    -------
    mean, low, high : float
        $\\bar d$ and the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled
        means.

    Notes
    -----
    With $n = 5$ seeds there are only 126 distinct resamples, and the percentile interval is known
    to be somewhat narrow for small $n$; it is the interval the field's critics ask for, and the
    chapter reads it as such.
    """
    diffs = np.asarray(d, dtype=float)
    if diffs.ndim != 1 or diffs.size < 2:
        raise ValueError(f"need at least 2 paired differences, got {diffs.size}")
    if not np.isfinite(diffs).all():
        raise ValueError("paired differences contain NaN or infinity")
    fraction(level, "level", include_one=False)
    idx = rng.integers(0, diffs.size, size=(n_boot, diffs.size))
    means = diffs[idx].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(diffs.mean()), float(low), float(high)


def _label(method: str, ratio: float, several: bool) -> str:
    return f"{method}:{ratio:g}" if several and np.isfinite(ratio) else method


def _arms(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with an ``arm`` column: the method name, or ``method:ratio`` when the table holds
    several ratios of that method."""
    ratios = table.groupby("method")["mask_ratio"].nunique()
    return table.assign(arm=[_label(m, r, ratios.get(m, 0) > 1) for m, r in zip(table["method"], table["mask_ratio"])])


def _with_metric_gaps(table: pd.DataFrame) -> pd.DataFrame:
    ref = table[table["method"] == "retrain"].set_index(list(PAIR_KEYS))[list(METRIC_NAMES)]
    ref = ref.rename(columns={m: f"{m}_retrain" for m in METRIC_NAMES})
    joined = table.join(ref, on=list(PAIR_KEYS))
    return table.assign(**{f"{m}_gap": (joined[m] - joined[f"{m}_retrain"]).abs() for m in METRIC_NAMES})


#: The comparisons of the report, ``(method, baseline)`` by method name.
WANTED_PAIRS: tuple[tuple[str, str], ...] = (
    ("rbm", "salun"),
    ("salun", "random"),
    ("salun", "rl"),
    ("rbm_grad", "salun"),
    ("rbm_layer", "salun"),
    ("rbm_reset", "salun"),
    ("rbm", "random"),
)


def default_pairs(arms: Iterable[str], primary: Mapping[str, str] | None = None) -> list[tuple[str, str, bool]]:
    """The comparisons the report makes among the ``arms`` present: ``(method, baseline, primary)``.

    The pairs of :data:`WANTED_PAIRS`. ``primary`` maps a method name to its primary arm (the one
    the verdict reads, e.g. ``"salun:0.3"``, each method at its tuned ratio); those pairs are made
    first and flagged ``True``. Other ratio-labelled arms (a ratio sweep) are paired with the
    baseline at the same ratio, flagged ``False``. Without ``primary``, a method's only arm is
    its primary one.
    """
    present = list(dict.fromkeys(arms))
    if primary is None:
        primary = {a: a for a in present if ":" not in a}
    pairs: list[tuple[str, str, bool]] = []
    for a, b in WANTED_PAIRS:
        if primary.get(a) in present and primary.get(b) in present:
            pairs.append((primary[a], primary[b], True))
    for a, b in WANTED_PAIRS:
        for arm in present:
            name, _, ratio = arm.partition(":")
            if name != a or not ratio:
                continue
            for base in (f"{b}:{ratio}", b):
                if base in present:
                    if not any(p[:2] == (arm, base) for p in pairs):
                        pairs.append((arm, base, False))
                    break
    return pairs


def compare(
    table: pd.DataFrame,
    *,
    seed: int,
    primary: Mapping[str, Mapping[str, str]] | None = None,
    n_boot: int = 10_000,
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """Paired differences with bootstrap intervals, per scenario, pair of methods and metric.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy rows (:data:`rbmlib.deep.results.COLUMNS`), one dataset or several.
    seed : int
        Seed of the bootstrap. Every comparison draws from its own stream,
        ``numpy.random.SeedSequence([seed, crc32(key)])`` with ``key`` the text
        ``"dataset|scenario|method|baseline|metric"``, so an interval does not change when other
        arms are added to the folder.
    primary : mapping, optional
        Scenario -> (method -> primary arm), passed to :func:`default_pairs`; default: every
        method's only arm.
    n_boot, level
        Passed to :func:`paired_bootstrap_ci`.

    Returns
    -------
    list of dict
        ``{"dataset", "scenario", "method", "baseline", "metric", "diff", "ci_low", "ci_high",
        "n", "primary"}``, ``diff`` = mean over paired seeds of method minus baseline; arms are
        ``method`` or ``method:ratio`` when the scenario holds several ratios of the method.

    Raises
    ------
    ValueError
        Fewer than two paired seeds for a comparison.
    """
    jobs = []
    for (dataset, scenario), rows in table.groupby(["dataset", "scenario"], sort=False):
        rows = _with_metric_gaps(_arms(rows))
        pairs = default_pairs(rows["arm"], None if primary is None else primary.get(scenario))
        for a, b, is_primary in pairs:
            left = rows[rows["arm"] == a].set_index(list(PAIR_KEYS))
            right = rows[rows["arm"] == b].set_index(list(PAIR_KEYS))
            common = left.index.intersection(right.index)
            if len(common) < 2:
                raise ValueError(
                    f"{a} vs {b} under {scenario}: need at least 2 paired seeds (same split), got {len(common)}"
                )
            for metric in COMPARED_METRICS:
                d = (left.loc[common, metric] - right.loc[common, metric]).to_numpy(float)
                if np.isfinite(d).all():
                    jobs.append((dataset, scenario, a, b, is_primary, metric, d))
    out = []
    for dataset, scenario, a, b, is_primary, metric, d in jobs:
        key = zlib.crc32(f"{dataset}|{scenario}|{a}|{b}|{metric}".encode())
        rng = np.random.default_rng(np.random.SeedSequence([seed, key]))
        diff, low, high = paired_bootstrap_ci(d, rng=rng, n_boot=n_boot, level=level)
        out.append(
            {
                "dataset": dataset,
                "scenario": scenario,
                "method": a,
                "baseline": b,
                "metric": metric,
                "diff": diff,
                "ci_low": low,
                "ci_high": high,
                "n": int(d.size),
                "primary": is_primary,
            }
        )
    return out


def _signed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals and its sign (``+0.67``, ``−0.06``, a true minus); only an
    exact zero has no sign, so a tiny negative bound still reads as negative."""
    if x == 0:
        return f"{0:.{decimals}f}"
    return f"{x:+.{decimals}f}".replace("-", "−")


def format_interval(diff: float, low: float, high: float, digits: int = 2) -> str:
    """``"+d [lo, hi]"``: a paired difference and its interval, with a true minus sign.

    ``digits`` decimals, one more (up to ``digits + 3``) while a non-zero bound would round to zero:
    a bound of ``-0.003`` prints as ``−0.003``, never as an unreadable ``-0.00``, since which side
    of 0 a bound lies on is what decides a comparison. The three numbers share their decimals.
    """
    decimals = digits
    while decimals < digits + 3 and any(b != 0 and round(b, decimals) == 0 for b in (low, high)):
        decimals += 1
    return f"{_signed(diff, decimals)} [{_signed(low, decimals)}, {_signed(high, decimals)}]"


def _base(arm: str) -> str:
    return arm.partition(":")[0]


def _sign(row: Mapping[str, Any]) -> int:
    """-1 when the interval lies below 0 (method lower), +1 above 0, 0 when it contains 0."""
    return -1 if row["ci_high"] < 0 else 1 if row["ci_low"] > 0 else 0


def scenario_outcome(
    comparisons: Sequence[Mapping[str, Any]],
    scenario: str,
    *,
    rbm: str = "rbm",
    salun: str = "salun",
    control: str = "random",
) -> str:
    """C7's outcome in one scenario: ``"no power"``, ``"win"``, ``"loss"``, ``"trade-off"`` or ``"tie"``.

    ``"no power"``: SalUn's Avg. Gap is not below the random mask's with an interval excluding 0
    (or either comparison is missing), so the scenario cannot tell saliency from chance. Otherwise,
    with "better" meaning a gap (Avg. Gap or a per-metric gap to Retrain) whose paired interval lies
    below 0:

    * ``"loss"``: RBM's Avg. Gap is worse than SalUn's (interval above 0);
    * ``"win"``: RBM's Avg. Gap is better and no per-metric gap is worse;
    * ``"trade-off"``: RBM is better on some of Avg. Gap and the four per-metric gaps and worse on
      others;
    * ``"tie"``: otherwise (every difference within the seed spread).
    """
    rows = {
        (_base(r["method"]), _base(r["baseline"]), r["metric"]): r
        for r in comparisons
        if r["scenario"] == scenario and r.get("primary", True)
    }
    power = rows.get((salun, control, "avg_gap"))
    main = rows.get((rbm, salun, "avg_gap"))
    if power is None or main is None or _sign(power) != -1:
        return "no power"
    signs = [_sign(rows[(rbm, salun, m)]) for m in GAP_METRICS if (rbm, salun, m) in rows]
    if _sign(main) == 1:
        return "loss"
    if _sign(main) == -1:
        return "trade-off" if 1 in signs else "win"
    return "trade-off" if (1 in signs and -1 in signs) else "tie"


def c7_verdict(
    comparisons: Sequence[Mapping[str, Any]], *, rbm: str = "rbm", salun: str = "salun", control: str = "random"
) -> tuple[str, str, str]:
    """The verdict on claim C7 from paired comparisons (the one definition of the rule).

    Claim C7: on real data RBM balances UA, RA and the gap to retraining better than
    forgetting-based masking (SalUn). Each scenario gets :func:`scenario_outcome`; only scenarios
    with power (SalUn beats the random mask) decide:

    * ``"inconclusive"`` -- no scenario has power, or RBM ties SalUn in every one that has;
    * ``"holds"`` -- RBM wins in every scenario, and every scenario has power;
    * ``"holds under stated conditions"`` -- RBM wins in some scenarios with power and ties or
      lacks power in the rest (the conditions name where it wins);
    * ``"fails"`` -- RBM loses in some scenario with power and wins in none, with no trade-off;
    * ``"trade-off"`` -- otherwise (wins and losses, or a scenario with a trade-off).

    A tie (interval containing 0) is never a failure.

    Parameters
    ----------
    comparisons : sequence of dict
        Rows of :func:`compare` (keys ``scenario``, ``method``, ``baseline``, ``metric``, ``diff``,
        ``ci_low``, ``ci_high``).
    rbm, salun, control : str
        Method names of the primary RBM, SalUn and the random-mask control; only rows flagged
        ``primary`` (or without the flag) are read, whatever their ratio label.

    Returns
    -------
    verdict : str
        One of :data:`rbmlib.claims.VERDICTS`.
    conditions : str
        Which scenarios decided and which could not (no power), scenarios by their readable names
        (:func:`rbmlib.presentation.scenario_label`).
    evidence : str
        One clause per scenario, for a reader: its outcome, the paired Avg. Gap differences with
        their intervals (:func:`format_interval`), and which per-metric gaps of RBM are smaller or
        larger than SalUn's (interval excluding 0); methods by their display names. The arms'
        ratios are not repeated: each is the primary arm (its tuned ratio, by default).
    """
    scenarios = list(dict.fromkeys(r["scenario"] for r in comparisons))
    outcomes = {s: scenario_outcome(comparisons, s, rbm=rbm, salun=salun, control=control) for s in scenarios}
    decided = {s: o for s, o in outcomes.items() if o != "no power"}
    kinds = set(decided.values())
    if not decided or kinds == {"tie"}:
        verdict = "inconclusive"
    elif kinds == {"win"} and len(decided) == len(outcomes):
        verdict = "holds"
    elif kinds <= {"win", "tie"}:
        verdict = "holds under stated conditions"
    elif kinds <= {"loss", "tie"}:
        verdict = "fails"
    else:
        verdict = "trade-off"
    assert verdict in VERDICTS
    no_power = [scenario_label(s) for s, o in outcomes.items() if o == "no power"]
    conditions = (
        "; ".join(
            [f"{o} under {scenario_label(s)}" for s, o in decided.items()]
            + ([f"no power under {', '.join(no_power)} (SalUn does not beat the random mask)"] if no_power else [])
        )
        or "no scenario"
    )
    rows = {
        (r["scenario"], _base(r["method"]), _base(r["baseline"]), r["metric"]): r
        for r in comparisons
        if r.get("primary", True)
    }
    parts = []
    for s in scenarios:
        bits: list[str] = []
        for a, b in ((rbm, salun), (salun, control)):
            r = rows.get((s, a, b, "avg_gap"))
            if r is not None:
                interval = format_interval(r["diff"], r["ci_low"], r["ci_high"])
                bits.append(f"{'Avg. Gap of ' if not bits else 'of '}{label(a)} − {label(b)} {interval}")
        signs = {m: _sign(rows[(s, rbm, salun, m)]) for m in GAP_METRICS if (s, rbm, salun, m) in rows}
        moved = [f"{GAP_NAMES[m]} smaller" for m, g in signs.items() if g == -1]
        moved += [f"{GAP_NAMES[m]} larger" for m, g in signs.items() if g == 1]
        if moved:
            bits.append(f"{label(rbm)}'s {join_words(moved)}")
        parts.append(f"{scenario_label(s)} ({outcomes[s]}): " + ", ".join(bits))
    return verdict, conditions, "; ".join(parts)


def comparison_table(
    comparisons: Sequence[Mapping[str, Any]],
    *,
    metric: str = "avg_gap",
    labels: Mapping[str, str] | None = None,
    digits: int = 2,
    primary_only: bool = True,
) -> pd.DataFrame:
    """Display table of one metric's paired differences: one row per (method, baseline), one column
    per scenario, cells ``"+d [lo, hi]"`` (mean paired difference and its 95 % interval).

    Parameters
    ----------
    comparisons : sequence of dict
        Rows of :func:`compare`.
    metric : str
        Which metric's rows to show.
    labels : mapping of str to str, optional
        Display names of the methods (arms ``method:ratio`` keep their ratio).
    digits : int
        Decimals (more where a bound would round to zero, :func:`format_interval`).
    primary_only : bool
        Show only the primary pairs (each method at its tuned ratio), named without ratios.
    """

    def name(arm: str) -> str:
        base, sep, ratio = arm.partition(":")
        shown = labels.get(base, base) if labels else base
        return f"{shown} ({ratio})" if sep and not primary_only else shown

    rows = [r for r in comparisons if r["metric"] == metric and (r.get("primary", True) or not primary_only)]
    cells: dict[str, dict[str, str]] = {}
    for r in rows:
        key = f"{name(r['method'])} − {name(r['baseline'])}"
        cells.setdefault(key, {})[r["scenario"]] = format_interval(r["diff"], r["ci_low"], r["ci_high"], digits)
    out = pd.DataFrame.from_dict(cells, orient="index").fillna("—")
    out.index.name = "method − baseline"
    return out
