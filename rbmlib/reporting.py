"""Tables for the book: Monte Carlo summaries as tidy frames.

Numbers are rounded *here*, once, so that a glued table reads the same on every machine (the
nbval references compare the glued text). Rendering is :func:`rbmlib.presentation.render_table`,
the one renderer of the book and the command lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rbmlib.presentation import mean_pm, render_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["summary_frame", "markdown_table", "theory_check_frame"]


def summary_frame(rows: Sequence[dict], *, digits: int = 1) -> pd.DataFrame:
    """One row per model, one ``"mean ± se"`` column per metric, from :func:`rbmlib.simulation.summarise`.

    Losses at round-off level (below ``10**-digits / 2``) print as ``0``.
    """
    import pandas as pd

    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")

    def cell(estimate: dict) -> str:
        return mean_pm(float(estimate["mean"]), float(estimate["se"]), digits)

    records = {
        row["model"]: {metric: cell(value) for metric, value in row.items() if metric != "model"} for row in rows
    }
    return pd.DataFrame.from_dict(records, orient="index").rename_axis("model")


def markdown_table(frame: pd.DataFrame, **render) -> str:
    """A MyST pipe table of ``frame`` for ``{glue:md}``: :func:`rbmlib.presentation.render_table`
    with ``style="markdown"`` (a named index is the first column, readable headers)."""
    return render_table(frame, style="markdown", **render)


def theory_check_frame(samples: dict, table: dict) -> pd.DataFrame:
    """Every formula of :func:`rbmlib.theory.theory_table` beside the Monte Carlo mean on the same draws.

    Parameters
    ----------
    samples : dict
        ``samples[model][metric]`` per-draw losses (e.g. :func:`rbmlib.running_example.example_samples`).
    table : dict
        ``table[model][metric] = (value, kind, reason)`` from :func:`rbmlib.theory.theory_table`.

    Returns
    -------
    pandas.DataFrame
        One row per (model, metric) present in both, with ``kind`` (exact / deterministic
        equivalent / none), ``theory``, ``mean``, ``se``, ``z`` (for exact forms that are not
        identically zero) and ``rel_error`` (theory / mean − 1, for deterministic equivalents);
        a model or metric without a formula keeps its ``reason``.
    """
    import numpy as np
    import pandas as pd

    rows = []
    for model, metrics in table.items():
        if model not in samples:
            continue
        for metric, (value, kind, reason) in metrics.items():
            draws = np.asarray(samples[model][metric])
            mean, se = float(np.mean(draws)), float(np.std(draws, ddof=1) / np.sqrt(draws.size))
            exact_nonzero = kind == "exact" and value not in (None, 0.0)
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "kind": kind,
                    "theory": value,
                    "mean": mean,
                    "se": se,
                    "z": (mean - value) / se if exact_nonzero and se > 0 else np.nan,
                    "rel_error": value / mean - 1 if kind != "exact" and value is not None and mean != 0 else np.nan,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows)
