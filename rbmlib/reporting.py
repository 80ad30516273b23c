"""Tables for the book: Monte Carlo summaries as tidy frames and as MyST markdown.

Numbers are rounded *here*, once, so that a glued table reads the same on every machine (the
nbval references compare the glued text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["summary_frame", "markdown_table"]


def summary_frame(rows: Sequence[dict], *, digits: int = 1) -> pd.DataFrame:
    """One row per model, one ``"mean ± se"`` column per metric, from :func:`rbmlib.simulation.summarise`.

    Losses at round-off level (below ``10**-digits / 2``) print as ``0``.
    """
    import pandas as pd

    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")

    def cell(estimate: dict) -> str:
        mean, se = (round(float(estimate[k]), digits) + 0.0 for k in ("mean", "se"))  # + 0.0 turns -0.0 into 0.0
        return f"{mean:.{digits}f} ± {se:.{digits}f}"

    records = {row["model"]: {metric: cell(value) for metric, value in row.items() if metric != "model"} for row in rows}
    return pd.DataFrame.from_dict(records, orient="index").rename_axis("model")


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (index included as the first column), for ``{glue:md}``."""
    header = [frame.index.name or "", *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(idx), *map(str, row)]) + " |" for idx, row in zip(frame.index, frame.to_numpy())]
    return "\n".join(lines)
