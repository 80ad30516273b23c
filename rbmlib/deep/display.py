"""Display strings of the deep result tables: ``mean ± std`` cells, the command lines' text table,
the book's per-scenario tables (Chapter 6), and the readable names of scenarios and gaps.

The numbers come from :func:`rbmlib.deep.results.summarise`; this module only formats them, with
the house's one table renderer and series names (:mod:`rbmlib.presentation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from rbmlib.deep.results import SUMMARY_VALUES
from rbmlib.presentation import HEADERS as PRESENTATION_HEADERS
from rbmlib.presentation import label as label_of
from rbmlib.presentation import mean_pm, render_table, scenario_label

__all__ = [
    "GAP_NAMES",
    "HEADERS",
    "QUALITY_COLUMNS",
    "REFERENCE_GAP",
    "PARAMETER_NAMES",
    "format_summary",
    "run_time_table",
    "scenario_table",
    "summary_text",
    "tuning_text",
]


#: Readable names of the gaps to Retrain: ``avg_gap`` -> "Avg. Gap", ``ua_gap`` -> "UA gap", …
GAP_NAMES: Mapping[str, str] = {
    "avg_gap": PRESENTATION_HEADERS["avg_gap"],
    **{f"{m}_gap": f"{PRESENTATION_HEADERS[m]} gap" for m in ("ua", "ra", "ta", "mia")},
}


#: Readable names of the tuned hyper-parameters (:class:`rbmlib.deep.recipes.Tuning` ``values``).
PARAMETER_NAMES: Mapping[str, str] = {"lr": "learning rate", "ratio": "mask ratio", "alpha": "ℓ1 weight"}


def tuning_text(values: Mapping[str, float], source: str) -> str:
    """One method's tuned values and where they come from, for a reader:
    ``"learning rate 0.005, mask ratio 0.3 (tuned on random 10 %, Avg. Gap 0.92)"``."""
    shown = ", ".join(f"{PARAMETER_NAMES.get(k, k)} {v:g}" for k, v in values.items())
    return f"{shown} ({source})"


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
#: The columns of the unlearning quality, without the run time (which :func:`run_time_table` shows).
QUALITY_COLUMNS: tuple[str, ...] = ("ua", "ra", "ta", "mia", "avg_gap")
#: Retrain's Avg. Gap cell: the gap of the reference to itself, 0 by definition, not a measurement.
REFERENCE_GAP = "0 (reference)"


def _cells(rows: pd.DataFrame, name: str, digits: int | None) -> list[str]:
    """``"mean ± std"`` of one metric; the run time with as many decimals as its spread needs."""
    d = None if name == "rte_s" else digits
    cells = [mean_pm(float(a), float(b), d) for a, b in zip(rows[f"{name}_mean"], rows[f"{name}_std"])]
    if name == "avg_gap":
        cells = [REFERENCE_GAP if m == "retrain" else c for m, c in zip(rows["method"], cells)]
    return cells


def _method_names(methods: pd.Series, labels: Mapping[str, str] | None) -> pd.Index:
    names = labels or {}
    return pd.Index([names.get(m, label_of(m)) for m in methods], name="method", dtype=object)


def scenario_table(
    summary: pd.DataFrame,
    scenario: str,
    *,
    labels: dict[str, str] | None = None,
    digits: int = 1,
    columns: Sequence[str] = tuple(HEADERS),
) -> pd.DataFrame:
    """One scenario's ``"mean ± std"`` table for display: index = method (display names, by default
    the registry's), columns UA, RA, TA, MIA, Avg. Gap, RTE (s) (or those of ``columns``).

    Metrics get ``digits`` decimals; the run time as many as its spread needs (``0.72 ± 0.04``,
    :func:`rbmlib.presentation.mean_pm` with ``digits=None``); Retrain's Avg. Gap, 0 by definition,
    reads :data:`REFERENCE_GAP`.
    """
    rows = summary[summary["scenario"] == scenario]
    out = pd.DataFrame({HEADERS[c]: _cells(rows, c, digits) for c in columns}, columns=[HEADERS[c] for c in columns])
    out.index = _method_names(rows["method"], labels)
    return out


def run_time_table(
    summary: pd.DataFrame,
    scenarios: Sequence[str],
    *,
    labels: dict[str, str] | None = None,
    names: Callable[[str], str] = scenario_label,
) -> pd.DataFrame:
    """Run time of the unlearning step (RTE, seconds, mean ± std over seeds) for display: one row per
    method (display names), one column per scenario (``names``), decimals as the spread needs."""
    cols = {}
    methods: list[str] = []
    for s in scenarios:
        rows = summary[summary["scenario"] == s]
        cols[names(s)] = dict(zip(rows["method"], _cells(rows, "rte_s", None)))
        methods += [m for m in rows["method"] if m not in methods]
    out = pd.DataFrame({c: [v.get(m, "—") for m in methods] for c, v in cols.items()})
    out.index = _method_names(pd.Series(methods, dtype=object), labels)
    return out
