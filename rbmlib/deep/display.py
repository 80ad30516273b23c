"""Display strings of the deep result tables: ``mean ± std`` cells, the command lines' text table
and the book's per-scenario table (Chapter 6).

The numbers come from :func:`rbmlib.deep.results.summarise`; this module only formats them, with
the house's one table renderer and series names (:mod:`rbmlib.presentation`).
"""

from __future__ import annotations

import pandas as pd

from rbmlib.deep.results import SUMMARY_VALUES
from rbmlib.presentation import HEADERS as PRESENTATION_HEADERS
from rbmlib.presentation import label as label_of
from rbmlib.presentation import mean_pm, render_table

__all__ = ["HEADERS", "format_summary", "scenario_table", "summary_text"]


def format_summary(summary: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """``"mean ± std"`` strings per metric (for display), one row per method and scenario
    (:func:`rbmlib.presentation.mean_pm`; ``n/a`` where a metric is missing) of
    :func:`~rbmlib.deep.results.summarise`'s output."""
    out = summary[["dataset", "scenario", "method", "mask_ratio"]].copy()
    for name in SUMMARY_VALUES:
        m, s = summary[f"{name}_mean"], summary[f"{name}_std"]
        out[name] = [mean_pm(float(a), float(b), digits) for a, b in zip(m, s)]
    return out


def summary_text(summary: pd.DataFrame, digits: int = 1) -> str:
    """The command lines' fixed-width ``mean ± std`` table of :func:`~rbmlib.deep.results.summarise`'s output.

    Rendered by :func:`rbmlib.presentation.render_table`; the columns keep the CSV's names
    (``method``, ``ua``, …) and methods their keys, so the table and ``results.csv`` read alike.
    """
    shown = format_summary(summary, digits)
    return render_table(shown, headers={c: c for c in shown.columns}, style="text", labels=False)


#: Column headers of :func:`scenario_table` (the registry's, :data:`rbmlib.presentation.HEADERS`).
HEADERS: dict[str, str] = {k: PRESENTATION_HEADERS[k] for k in ("ua", "ra", "ta", "mia", "avg_gap", "rte_s")}


def scenario_table(
    summary: pd.DataFrame, scenario: str, *, labels: dict[str, str] | None = None, digits: int = 1
) -> pd.DataFrame:
    """One scenario's ``"mean ± std"`` table for display: index = method (display names, by default
    the registry's), columns UA, RA, TA, MIA, Avg. Gap, RTE (s)."""
    rows = format_summary(summary[summary["scenario"] == scenario], digits=digits)
    names = rows["method"].map(labels or {}).fillna(rows["method"].map(label_of))
    out = rows[list(HEADERS)].rename(columns=HEADERS)
    out.index = pd.Index(names, name="method")
    return out
