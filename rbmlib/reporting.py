"""Tables for the book: Monte Carlo summaries as tidy frames.

Numbers are rounded *here*, once, so that a glued table reads the same on every machine (the
nbval references compare the glued text). Rendering is :func:`rbmlib.presentation.render_table`,
the one renderer of the book and the command lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rbmlib.presentation import mean_pm, render_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["summary_frame", "markdown_table", "theory_check_frame"]


def summary_frame(summary: pd.DataFrame, *, digits: int = 1) -> pd.DataFrame:
    """One row per method, one ``"mean ± se"`` column per metric, from :func:`rbmlib.simulation.summarise`.

    Losses at round-off level (below ``10**-digits / 2``) print as ``0``.
    """
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    import pandas as pd

    metrics = [c.removesuffix("_mean") for c in summary.columns if c.endswith("_mean")]
    records = {
        row["method"]: {m: mean_pm(float(row[f"{m}_mean"]), float(row[f"{m}_se"]), digits) for m in metrics}
        for row in summary.to_dict("records")
    }
    return pd.DataFrame.from_dict(records, orient="index").rename_axis("method")


def markdown_table(frame: pd.DataFrame, **render) -> str:
    """A MyST pipe table of ``frame`` for ``{glue:md}``: :func:`rbmlib.presentation.render_table`
    with ``style="markdown"`` (a named index is the first column, readable headers)."""
    return render_table(frame, style="markdown", **render)


def theory_check_frame(samples: dict, table: dict) -> pd.DataFrame:
    """Every formula of :func:`rbmlib.theory.theory_table` beside the Monte Carlo mean on the same draws.

    Parameters
    ----------
    samples : dict
        ``samples[method][metric]`` per-draw losses (e.g. :func:`rbmlib.running_example.example_samples`).
    table : dict
        ``table[method][metric] = (value, kind, reason)`` from :func:`rbmlib.theory.theory_table`.

    Returns
    -------
    pandas.DataFrame
        One row per (method, metric) present in both, with ``kind`` (exact / deterministic
        equivalent / none), ``theory``, ``mean``, ``se``, ``z`` (for exact forms that are not
        identically zero) and ``rel_error`` (theory / mean − 1, for deterministic equivalents);
        a method or metric without a formula keeps its ``reason``.
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
                    "method": model,
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
