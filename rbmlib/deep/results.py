"""Result tables: one tidy row per run, Avg. Gap against the stored Retrain, mean and std (Chapter 6).

A finished run ("cell") of the grid is one record; :func:`collect` gathers records into a tidy
:class:`pandas.DataFrame` with one row per (dataset, scenario, method, mask ratio, seed) and
computes Avg. Gap against the Retrain row of the same dataset, scenario, seed **and split hash**
(``NaN`` when that Retrain has not been run): two runs are paired only when they read the same
split file, so a stale Retrain of another split is never used as the reference.
:func:`check_consistent` refuses tables that mix splits or configurations; :func:`read_results`
reads a results folder; :func:`summarise` aggregates over seeds. Paired comparisons between
methods are in :mod:`rbmlib.deep.stats`; the display strings of these tables (``mean ± std``
cells, the command lines' text table, the book's per-scenario table) in :mod:`rbmlib.deep.display`.
This module computes; it formats nothing.
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
    "REFERENCE_KEYS",
    "SUMMARY_VALUES",
    "check_consistent",
    "collect",
    "read_cells",
    "read_results",
    "summarise",
]

#: Columns that identify a row.
KEYS: tuple[str, ...] = ("dataset", "scenario", "method", "mask_ratio", "seed")
#: Column order of ``results.csv``.
COLUMNS: tuple[str, ...] = KEYS + METRIC_NAMES + ("avg_gap", "rte_s", "n_forget", "n_retain", "n_test", "split_sha256")


#: Columns pairing a run with its Retrain reference (same split file).
REFERENCE_KEYS: tuple[str, ...] = ("dataset", "scenario", "seed", "split_sha256")
#: Other names the split hash may carry in records (normalised to ``split_sha256``).
_SPLIT_ALIASES: tuple[str, ...] = ("split_hash",)


def _with_avg_gap(df: pd.DataFrame) -> pd.DataFrame:
    keys = list(REFERENCE_KEYS)
    ref = df[df["method"] == "retrain"].set_index(keys)
    if ref.index.has_duplicates:
        raise ValueError("more than one Retrain row for the same dataset, scenario, seed and split")
    gaps = []
    for row in df.itertuples(index=False):
        key = tuple(getattr(row, k) for k in keys)
        if key in ref.index:
            r = ref.loc[key]
            gaps.append(
                avg_gap(Metrics(row.ua, row.ra, row.ta, row.mia), Metrics(*(float(r[m]) for m in METRIC_NAMES)))
            )
        else:
            gaps.append(np.nan)
    return df.assign(avg_gap=gaps)


def check_consistent(df: pd.DataFrame) -> None:
    """Raise ``ValueError`` when a table mixes splits or configurations.

    Mixed splits: one (dataset, scenario, seed) with more than one split hash (runs of different
    splits cannot be paired). Mixed configurations: more than one row for one (dataset, scenario,
    method, mask ratio, seed), i.e. the same cell run twice with different settings; or, when the
    records carry a seed-independent configuration hash (``recipe_sha256``, written by the
    runner), one (dataset, scenario, method, mask ratio) whose seeds were run with different
    configurations. (``config_sha256`` is a cell's own key and includes its seed, so it differs
    between seeds by construction.)
    """
    splits = df.groupby(["dataset", "scenario", "seed"])["split_sha256"].nunique()
    mixed = splits[splits > 1]
    if not mixed.empty:
        (d, sc, seed), n = next(iter(mixed.items()))
        raise ValueError(
            f"mixed splits: {n} different split hashes for dataset {d!r}, scenario "
            f"{sc!r}, seed {seed} ({len(mixed)} such groups)"
        )
    dup = df[df.duplicated(list(KEYS), keep=False)]
    if not dup.empty:
        r = dup.iloc[0]
        raise ValueError(
            f"mixed configurations: {len(dup)} rows share a cell key, e.g. "
            f"{r['method']} under {r['scenario']}, seed {r['seed']}"
        )
    for col in ("recipe_sha256",):
        if col in df:
            n = df.groupby(["dataset", "scenario", "method", "mask_ratio"], dropna=False)[col].nunique()
            if (n > 1).any():
                (d, sc, m, r) = n[n > 1].index[0]
                raise ValueError(
                    f"mixed configurations: {int(n.max())} different {col} values for "
                    f"{m} (ratio {r}) under {sc!r} on {d!r}"
                )


def collect(records: list[dict]) -> pd.DataFrame:
    """Tidy table of cell records (dicts with the :data:`COLUMNS` except ``avg_gap``).

    Rows are sorted by dataset, scenario, method (in :data:`rbmlib.deep.methods.METHODS` order),
    mask ratio and seed.
    """
    from rbmlib.deep.methods import METHODS

    if not records:
        return pd.DataFrame(columns=list(COLUMNS))
    df = pd.DataFrame.from_records(records)
    for alias in _SPLIT_ALIASES:
        if alias in df and "split_sha256" not in df:
            df = df.rename(columns={alias: "split_sha256"})
    df["mask_ratio"] = df["mask_ratio"].astype(float)
    check_consistent(df)
    df = _with_avg_gap(df)
    order = {m: i for i, m in enumerate(METHODS)}
    df = df.sort_values(
        ["dataset", "scenario", "method", "mask_ratio", "seed"], key=lambda s: s.map(order) if s.name == "method" else s
    )
    return df[list(COLUMNS)].reset_index(drop=True)


def read_cells(folder: Path) -> list[dict]:
    """All cell records (``*.json``) under ``folder``."""
    return [json.loads(p.read_text())["record"] for p in sorted(Path(folder).rglob("*.json"))]


def read_results(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a results folder written by :func:`rbmlib.deep.runner.run_experiment`.

    Reads ``<folder>/results.csv`` and recomputes Avg. Gap from the raw metrics (paired on the
    split hash, :func:`collect`), so the table does not depend on how an earlier version computed
    it.

    Raises
    ------
    ValueError
        No ``results.csv`` in ``folder``, a table without the needed columns, or mixed splits or
        configurations (:func:`check_consistent`).
    """
    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise ValueError(f"no results table {path} (run `python -m rbmlib unlearn ... --out {folder}` first)")
    df = pd.read_csv(path)
    needed = set(KEYS) | set(METRIC_NAMES)
    missing = needed - set(df.columns)
    if missing or not ({"split_sha256", *_SPLIT_ALIASES} & set(df.columns)):
        raise ValueError(f"{path} lacks columns {sorted(missing) or ['split_sha256']}")
    records = df.drop(columns=[c for c in ("avg_gap",) if c in df]).to_dict("records")
    for r in records:
        if pd.isna(r["mask_ratio"]):
            r["mask_ratio"] = None
    return collect(records)


#: The columns :func:`summarise` aggregates: every metric, Avg. Gap and run time.
SUMMARY_VALUES: tuple[str, ...] = (*METRIC_NAMES, "avg_gap", "rte_s")


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation over seeds of every metric, Avg. Gap and run time.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table (:func:`collect`, :func:`read_results`).

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, scenario, method, mask_ratio), columns ``<metric>_mean``,
        ``<metric>_std`` and ``n_seeds``.
    """
    values = list(SUMMARY_VALUES)
    groups = df.groupby(["dataset", "scenario", "method", "mask_ratio"], dropna=False, sort=False)
    mean = groups[values].mean().add_suffix("_mean")
    std = groups[values].std(ddof=1).add_suffix("_std")
    out = pd.concat([mean, std], axis=1)
    out["n_seeds"] = groups.size()
    return out.reset_index()
