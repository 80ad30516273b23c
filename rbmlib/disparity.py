"""Disparity: how far an unlearning method lands from the golden (retrained) model (Chapters 4–5).

For a metric :math:`M` (forgetting loss, remaining loss, fresh remaining loss) and a method
:math:`A`, the gap on one instance is :math:`|M(w_A) - M(w_g)|`; the book reports its mean over
instances (a paired comparison on the same draws) and the **average gap**, the mean of the
per-metric gaps — the linear analogue of the deep experiments' Avg. Gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["gaps", "gap_summary", "recovered_fraction"]


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
    samples: Mapping[str, Mapping[str, np.ndarray]], *, methods: Sequence[str] | None = None, reference: str = "golden"
) -> pd.DataFrame:
    """Mean gap of every metric (and ``avg_gap``) for ``methods`` (default: all but the reference).

    Returns
    -------
    pandas.DataFrame
        Index ``method`` (in the order of ``methods``), one column per metric and ``avg_gap``.
    """
    import pandas as pd

    per_draw = gaps(samples, reference=reference)
    chosen = [m for m in samples if m != reference] if methods is None else list(methods)
    records = {method: {metric: float(np.mean(v)) for metric, v in per_draw[method].items()} for method in chosen}
    return pd.DataFrame.from_dict(records, orient="index").rename_axis("method")


def recovered_fraction(method_loss: np.ndarray, golden_loss: np.ndarray) -> tuple[float, float]:
    """Fraction of the golden forgetting loss a method recovers, with its standard error.

    Parameters
    ----------
    method_loss, golden_loss : ndarray, shape (draws,)
        Per-draw forgetting losses of the method and of the golden model **on the same draws**.

    Returns
    -------
    (fraction, se) : tuple of float
        :math:`\\hat\\rho = \\bar a / \\bar g`, and its delta-method standard error
        :math:`\\hat\\rho \\sqrt{(s_a^2/\\bar a^2 + s_g^2/\\bar g^2 - 2 s_{ag}/(\\bar a \\bar g))/n}`
        (paired draws, so the covariance :math:`s_{ag}` enters). When :math:`\\bar a = 0` the
        standard error is :math:`s_a / (\\bar g \\sqrt n)`.

    Notes
    -----
    Claim C4 ("RBM significantly improves UA over FT") is measured by this fraction: FT recovers
    0 (it keeps the original's zero forgetting loss), the golden model 1 by definition.
    """
    a, g = np.asarray(method_loss, dtype=float), np.asarray(golden_loss, dtype=float)
    if a.shape != g.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"need two paired 1-d samples of >= 2 draws, got shapes {a.shape} and {g.shape}")
    n, a_bar, g_bar = a.size, float(np.mean(a)), float(np.mean(g))
    if not g_bar > 0:
        raise ValueError(f"the golden forgetting loss must be positive to define a fraction, got mean {g_bar}")
    rho = a_bar / g_bar
    if a_bar == 0:
        return 0.0, float(np.std(a, ddof=1) / (g_bar * np.sqrt(n)))
    cov = np.cov(a, g, ddof=1)
    rel = cov[0, 0] / a_bar**2 + cov[1, 1] / g_bar**2 - 2 * cov[0, 1] / (a_bar * g_bar)
    return rho, float(abs(rho) * np.sqrt(max(rel, 0.0) / n))
