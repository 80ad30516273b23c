"""Disparity: how far an unlearning method lands from the golden (retrained) model (Chapters 4–5).

For a metric :math:`M` (forgetting loss, remaining loss, fresh remaining loss) and a method
:math:`A`, the gap on one instance is :math:`|M(w_A) - M(w_g)|`; the book reports its mean over
instances (a paired comparison on the same draws) and the **average gap**, the mean of the
per-metric gaps — the linear analogue of the deep experiments' Avg. Gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["gaps", "gap_summary"]


def gaps(
    samples: Mapping[str, Mapping[str, np.ndarray]], *, reference: str = "golden"
) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw absolute gaps to ``reference``: ``out[model][metric]`` has shape ``(draws,)``.

    Each model also gets ``"avg_gap"``, the per-draw mean of its metric gaps.
    """
    if reference not in samples:
        raise ValueError(f"reference model {reference!r} is not among the models {sorted(samples)}")
    ref = samples[reference]
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, metrics in samples.items():
        if set(metrics) != set(ref):
            raise ValueError(f"model {model!r} has metrics {sorted(metrics)}, the reference has {sorted(ref)}")
        per_metric = {m: np.abs(np.asarray(v) - np.asarray(ref[m])) for m, v in metrics.items()}
        per_metric["avg_gap"] = np.mean(np.stack(list(per_metric.values())), axis=0)
        out[model] = per_metric
    return out


def gap_summary(
    samples: Mapping[str, Mapping[str, np.ndarray]], *, models: Sequence[str] | None = None, reference: str = "golden"
) -> dict[str, dict[str, float]]:
    """Mean gap of every metric (and ``avg_gap``) for ``models`` (default: all but the reference)."""
    per_draw = gaps(samples, reference=reference)
    chosen = [m for m in samples if m != reference] if models is None else list(models)
    return {model: {metric: float(np.mean(v)) for metric, v in per_draw[model].items()} for model in chosen}
