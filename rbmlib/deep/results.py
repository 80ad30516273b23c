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

__all__ = ["COLUMNS", "KEYS", "collect", "format_summary", "summarize"]

#: Columns that identify a row.
KEYS: tuple[str, ...] = ("dataset", "scenario", "method", "mask_ratio", "seed")
#: Column order of ``results.csv``.
COLUMNS: tuple[str, ...] = KEYS + METRIC_NAMES + ("avg_gap", "rte_s", "n_forget", "n_retain",
                                                    "n_test", "split_sha256")


def _with_avg_gap(df: pd.DataFrame) -> pd.DataFrame:
    ref = df[df["method"] == "retrain"].set_index(["dataset", "scenario", "seed"])
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
