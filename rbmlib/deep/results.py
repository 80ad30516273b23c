"""Result tables: one tidy row per run, Avg. Gap against the stored Retrain, mean ± std (Chapter 6).

A finished run ("cell") of the grid is one JSON file; :func:`collect` reads them into a tidy
:class:`pandas.DataFrame` with one row per (dataset, scenario, method, mask ratio, seed) and
computes Avg. Gap against the Retrain row of the same dataset, scenario and seed (``NaN`` when
that Retrain has not been run). :func:`summarize` aggregates over seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from rbmlib.deep.metrics import METRIC_NAMES, Metrics, avg_gap

__all__ = [
    "COLUMNS",
    "KEYS",
    "c7_verdict",
    "collect",
    "compare_methods",
    "format_summary",
    "read_cells",
    "scenario_table",
    "summarize",
]

#: Columns that identify a row.
KEYS: tuple[str, ...] = ("dataset", "scenario", "method", "mask_ratio", "seed")
#: Column order of ``results.csv``.
COLUMNS: tuple[str, ...] = KEYS + METRIC_NAMES + ("avg_gap", "rte_s", "n_forget", "n_retain",
                                                    "n_test", "split_sha256")


def _with_avg_gap(df: pd.DataFrame) -> pd.DataFrame:
    ref = df[df["method"] == "retrain"].set_index(["dataset", "scenario", "seed"])
    if ref.index.has_duplicates:
        raise ValueError("more than one Retrain row for the same dataset, scenario and seed")
    gaps = []
    for row in df.itertuples(index=False):
        key = (row.dataset, row.scenario, row.seed)
        if key in ref.index:
            r = ref.loc[key]
            gaps.append(avg_gap(Metrics(row.ua, row.ra, row.ta, row.mia),
                                Metrics(*(float(r[m]) for m in METRIC_NAMES))))
        else:
            gaps.append(np.nan)
    return df.assign(avg_gap=gaps)


def collect(records: list[dict]) -> pd.DataFrame:
    """Tidy table of cell records (dicts with the :data:`COLUMNS` except ``avg_gap``).

    Rows are sorted by dataset, scenario, method (in :data:`rbmlib.deep.methods.METHODS` order),
    mask ratio and seed.
    """
    from rbmlib.deep.methods import METHODS

    if not records:
        return pd.DataFrame(columns=list(COLUMNS))
    df = pd.DataFrame.from_records(records)
    df["mask_ratio"] = df["mask_ratio"].astype(float)
    df = _with_avg_gap(df)
    order = {m: i for i, m in enumerate(METHODS)}
    df = df.sort_values(["dataset", "scenario", "method", "mask_ratio", "seed"],
                        key=lambda s: s.map(order) if s.name == "method" else s)
    return df[list(COLUMNS)].reset_index(drop=True)


def read_cells(folder: Path) -> list[dict]:
    """All cell records (``*.json``) under ``folder``."""
    return [json.loads(p.read_text())["record"] for p in sorted(Path(folder).rglob("*.json"))]


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation over seeds of every metric, Avg. Gap and run time.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, scenario, method, mask_ratio), columns ``<metric>_mean``,
        ``<metric>_std`` and ``n_seeds``.
    """
    values = list(METRIC_NAMES) + ["avg_gap", "rte_s"]
    groups = df.groupby(["dataset", "scenario", "method", "mask_ratio"], dropna=False, sort=False)
    mean = groups[values].mean().add_suffix("_mean")
    std = groups[values].std(ddof=1).add_suffix("_std")
    out = pd.concat([mean, std], axis=1)
    out["n_seeds"] = groups.size()
    return out.reset_index()


def format_summary(summary: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """``"mean ± std"`` strings per metric (for display), one row per method and scenario."""
    out = summary[["dataset", "scenario", "method", "mask_ratio"]].copy()
    for name in list(METRIC_NAMES) + ["avg_gap", "rte_s"]:
        m, s = summary[f"{name}_mean"], summary[f"{name}_std"].fillna(0.0)
        out[name] = [f"{a:.{digits}f} ± {b:.{digits}f}" if np.isfinite(a) else "n/a" for a, b in zip(m, s)]
    return out


#: Column headers of :func:`scenario_table`.
HEADERS: dict[str, str] = {"ua": "UA", "ra": "RA", "ta": "TA", "mia": "MIA", "avg_gap": "Avg. Gap",
                           "rte_s": "RTE (s)"}


def scenario_table(summary: pd.DataFrame, scenario: str, *, labels: dict[str, str] | None = None,
                   digits: int = 1) -> pd.DataFrame:
    """One scenario's ``"mean ± std"`` table for display: index = method (display names), columns
    UA, RA, TA, MIA, Avg. Gap, RTE (s)."""
    rows = format_summary(summary[summary["scenario"] == scenario], digits=digits)
    names = rows["method"].map(labels) if labels else rows["method"]
    out = rows[list(HEADERS)].rename(columns=HEADERS)
    out.index = pd.Index(names, name="method")
    return out


def _row(summary: pd.DataFrame, scenario: str, method: str, mask_ratio: float | None) -> pd.Series:
    rows = summary[(summary["scenario"] == scenario) & (summary["method"] == method)]
    if mask_ratio is not None and rows["mask_ratio"].notna().any():
        rows = rows[np.isclose(rows["mask_ratio"], mask_ratio)]
    if len(rows) != 1:
        raise ValueError(f"need exactly one summary row for {method} under {scenario}, got {len(rows)}")
    return rows.iloc[0]


def compare_methods(summary: pd.DataFrame, a: str, b: str, *, mask_ratio: float | None = None) -> pd.DataFrame:
    """Method ``a`` against method ``b`` in every scenario of ``summary``.

    A difference counts only when it exceeds the seed noise: ``a`` *wins* a scenario when its mean
    Avg. Gap is below ``b``'s by more than the larger of the two standard deviations over seeds,
    *loses* in the mirror case, and *ties* otherwise.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarize` (one dataset).
    a, b : str
        Method names, e.g. ``"rbm"`` and ``"salun"``.
    mask_ratio : float, optional
        Which ratio's rows to use for masked methods (when the summary holds several).

    Returns
    -------
    pandas.DataFrame
        One row per scenario: ``ua``, ``ra`` and ``avg_gap`` means and stds of both methods
        (suffixes ``_a``/``_b``), ``margin`` and ``outcome`` in ``{"win", "tie", "loss"}`` for
        ``a``.
    """
    rows = []
    for scenario in dict.fromkeys(summary["scenario"]):
        ra, rb = _row(summary, scenario, a, mask_ratio), _row(summary, scenario, b, mask_ratio)
        margin = float(np.nanmax([ra["avg_gap_std"], rb["avg_gap_std"], 0.0]))
        diff = float(rb["avg_gap_mean"] - ra["avg_gap_mean"])
        outcome = "win" if diff > margin else "loss" if -diff > margin else "tie"
        row = {"scenario": scenario, "margin": margin, "outcome": outcome}
        for key, r in (("a", ra), ("b", rb)):
            for m in ("ua", "ra", "avg_gap"):
                row[f"{m}_mean_{key}"] = float(r[f"{m}_mean"])
                row[f"{m}_std_{key}"] = float(r[f"{m}_std"])
        rows.append(row)
    return pd.DataFrame(rows)


def c7_verdict(summary: pd.DataFrame, *, mask_ratio: float | None = None) -> tuple[str, str]:
    """Verdict on claim C7 ("RBM beats forgetting-based masking in balancing UA, RA and the gap to
    retraining") from a summary holding RBM and SalUn rows.

    Returns
    -------
    verdict : str
        ``"holds"`` (RBM wins every scenario), ``"holds under stated conditions"`` (wins some,
        ties the rest), ``"is a trade-off"`` (wins some, loses some) or ``"fails"`` (wins none).
    evidence : str
        One clause per scenario with the numbers (Avg. Gap, UA, RA, mean ± std over seeds),
        without a final full stop.
    """
    cmp = compare_methods(summary, "rbm", "salun", mask_ratio=mask_ratio)
    outcomes = set(cmp["outcome"])
    if outcomes == {"win"}:
        verdict = "holds"
    elif "win" in outcomes:
        verdict = "is a trade-off" if "loss" in outcomes else "holds under stated conditions"
    else:
        verdict = "fails"
    words = {"win": "RBM closer to Retrain", "loss": "SalUn closer to Retrain",
             "tie": "no difference beyond the seed noise"}
    parts = []
    for r in cmp.itertuples(index=False):
        parts.append(
            f"under {r.scenario}, Avg. Gap {r.avg_gap_mean_a:.1f} ± {r.avg_gap_std_a:.1f} (RBM) vs "
            f"{r.avg_gap_mean_b:.1f} ± {r.avg_gap_std_b:.1f} (SalUn), UA {r.ua_mean_a:.1f} vs "
            f"{r.ua_mean_b:.1f}, RA {r.ra_mean_a:.1f} vs {r.ra_mean_b:.1f}: {words[r.outcome]}"
        )
    return verdict, "; ".join(parts)
