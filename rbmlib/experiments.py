"""The synthetic experiment suite: every linear unlearning method over draws, grids and mask ratios.

Chapter 4 uses :func:`simulate_methods` at one setting; Chapter 5 maps the methods over the
overlap fraction and the remaining-sample ratio (:func:`phase_grid`) and over the mask ratio
under a feature leak (:func:`ratio_sweep`). Masks need dense designs (a leak fills the zeros), so
this engine works on dense :class:`~rbmlib.linear_model.LinearInstance` batches, drawn and batched
by :mod:`rbmlib.simulation` (one sampler, one batching loop): draw ``i`` comes from child ``i`` of
``np.random.default_rng(seed)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.disparity import gaps, recovered_fraction
from rbmlib.linear_model import BlockSizes, LinearInstance, fit_models
from rbmlib.masks import SALIENCY_KINDS, masked_weights
from rbmlib.simulation import METRICS, SimulationConfig, cell_seeds, evaluate, run_batches
from rbmlib.validators import fraction

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LINEAR_METHODS",
    "MaskConfig",
    "simulate_methods",
    "PhaseGrid",
    "phase_grid",
    "ratio_sweep",
    "with_theory",
    "phase_difference",
    "paired_wins",
]

#: Every method of the linear chapters, in table order.
LINEAR_METHODS: tuple[str, ...] = ("original", "golden", "ft", "rbm", "fbm", "rbm_masked", "fbm_masked")


@dataclass(frozen=True)
class MaskConfig:
    """How masks are built (Chapter 4). The feature leak is the data's: :attr:`SimulationConfig.leak`.

    Parameters
    ----------
    ratio : float or None, default None
        Mask ratio: the fraction of weights **freed** (reset, or moved by the masked update), in
        :math:`(0, 1]` — the field's convention, as in Chapter 6's ``--mask-ratio``; ``None`` reads
        the saliency's support. Ratio 1 frees everything: reset-then-FT is then the golden retrain.
    saliency : str, default "fisher"
        One of :data:`rbmlib.masks.SALIENCY_KINDS`.
    """

    ratio: float | None = None
    saliency: str = "fisher"

    def __post_init__(self) -> None:
        if self.ratio is not None:
            fraction(self.ratio, "mask ratio (fraction of weights freed)")
        if self.saliency not in SALIENCY_KINDS:
            raise ValueError(f"saliency must be one of {SALIENCY_KINDS}, got {self.saliency!r}")


def simulate_methods(
    cfg: SimulationConfig,
    masks: MaskConfig = MaskConfig(),
    *,
    methods: Sequence[str] = LINEAR_METHODS,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw metrics of ``methods``: ``samples[method][metric]`` has shape ``(draws,)``.

    ``methods`` may name any of :data:`LINEAR_METHODS` and the reset points ``rbm_reset`` and
    ``fbm_reset`` (the masked models before fine-tuning); the masked updates are computed only
    when asked for. The draws are those of :func:`rbmlib.simulation.iter_batches`, made dense (a
    mask needs every coordinate); ``on_batch``, if given, is called with the number of draws of
    each finished batch (progress).
    """
    names = tuple(methods)
    unknown = set(names) - set(LINEAR_METHODS) - {"rbm_reset", "fbm_reset"}
    if unknown:
        raise ValueError(
            f"unknown linear methods {sorted(unknown)}; choose from {LINEAR_METHODS + ('rbm_reset', 'fbm_reset')}"
        )
    with_updates = any(name.endswith("_masked") for name in names)
    return run_batches(
        cfg, lambda batch: _evaluate_chunk(batch.to_instance(), masks, names, with_updates), on_batch=on_batch
    )


def _evaluate_chunk(
    batch: LinearInstance, masks: MaskConfig, names: Sequence[str], with_updates: bool
) -> dict[str, dict[str, np.ndarray]]:
    """Fit every model on one chunk of dense draws and evaluate the ones in ``names``."""
    fits = fit_models(batch)
    weights = {
        "original": fits.w_o,
        "golden": fits.w_g,
        "ft": fits.w_t,
        **masked_weights(batch, fits.w_o, ratio=masks.ratio, kind=masks.saliency, masked=with_updates),
    }
    return evaluate({name: weights[name] for name in names}, batch)


@dataclass(frozen=True)
class PhaseGrid:
    """A grid over the overlap fraction and the remaining-sample ratio (Chapter 5).

    Parameters
    ----------
    forget_block : int, default 100
        :math:`d_f + d_o`, split by each overlap fraction :math:`d_o / (d_f + d_o)`.
    d_r : int, default 100
        :math:`d_r`.
    n_f : int, default 20
        :math:`n_f`.
    overlaps : tuple of float
        Overlap fractions, each in :math:`[0, 1]`.
    retain_ratios : tuple of float
        Ratios :math:`n_r / (d_o + d_r)`, each in :math:`(0, 1]`.
    """

    forget_block: int = 100
    d_r: int = 100
    n_f: int = 20
    overlaps: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    retain_ratios: tuple[float, ...] = (0.2, 0.35, 0.5, 0.65, 0.8)

    def sizes(self, overlap: float, retain_ratio: float) -> BlockSizes:
        """Block sizes of one cell (validated by :class:`BlockSizes`)."""
        if not (0.0 <= overlap <= 1.0):
            raise ValueError(f"overlap fraction must be in [0, 1], got {overlap}")
        if not (0.0 < retain_ratio <= 1.0):
            raise ValueError(f"retain ratio n_r / (d_o + d_r) must be in (0, 1], got {retain_ratio}")
        d_o = int(round(overlap * self.forget_block))
        n_r = max(1, int(round(retain_ratio * (d_o + self.d_r))))
        return BlockSizes(self.forget_block - d_o, d_o, self.d_r, self.n_f, n_r)


def _cell_records(
    samples: dict, *, methods: Sequence[str], pairs: Sequence[tuple[str, str]] = (), **keys
) -> list[dict]:
    per_draw = gaps(samples)
    golden_forget = samples["golden"]["forgetting_loss"]
    records = []
    for method in methods:
        for metric, values in {**samples[method], **{f"gap_{k}": v for k, v in per_draw[method].items()}}.items():
            records.append(
                {
                    **keys,
                    "method": method,
                    "metric": metric,
                    "mean": float(np.mean(values)),
                    "se": float(np.std(values, ddof=1) / np.sqrt(values.size)),
                }
            )
        fraction, se = recovered_fraction(samples[method]["forgetting_loss"], golden_forget)
        records.append({**keys, "method": method, "metric": "recovered_forgetting", "mean": fraction, "se": se})
    for a, b in pairs:
        # Paired by draw: both methods are evaluated on the same instances, so the difference's
        # standard error is that of the per-draw differences (much smaller than either method's).
        metrics = {**samples[a], **{f"gap_{k}": v for k, v in per_draw[a].items()}}
        others = {**samples[b], **{f"gap_{k}": v for k, v in per_draw[b].items()}}
        for metric, values in metrics.items():
            diff = values - others[metric]
            records.append(
                {
                    **keys,
                    "method": f"{a}-{b}",
                    "metric": metric,
                    "mean": float(np.mean(diff)),
                    "se": float(np.std(diff, ddof=1) / np.sqrt(diff.size)),
                }
            )
    return records


def phase_grid(
    grid: PhaseGrid,
    *,
    draws: int,
    seed: int,
    masks: MaskConfig = MaskConfig(),
    methods: Sequence[str] = ("ft", "rbm", "fbm"),
    pairs: Sequence[tuple[str, str]] = (("fbm", "rbm"),),
) -> pd.DataFrame:
    """Mean metrics and gaps to the golden model of ``methods`` on every cell of ``grid``.

    Returns
    -------
    pandas.DataFrame
        One row per (overlap, retain_ratio, method, metric) with ``mean`` and ``se``; ``metric``
        runs over :data:`rbmlib.simulation.METRICS` and their gaps ``gap_<metric>`` and
        ``gap_avg_gap``, and ``recovered_forgetting``, the fraction of the golden forgetting loss
        the method recovers (:func:`rbmlib.disparity.recovered_fraction`, delta-method ``se``).
        Cell ``k`` of the grid uses the ``k``-th of :func:`rbmlib.simulation.cell_seeds`, an
        independent stream.
        Each pair ``(a, b)`` of ``pairs`` adds rows with method ``"a-b"``: the mean and standard
        error of the per-draw difference ``a − b`` of every metric and gap (a paired comparison).
    """
    import pandas as pd

    records = []
    cells = [(o, r) for o in grid.overlaps for r in grid.retain_ratios]
    for (overlap, ratio), cell_seed in zip(cells, cell_seeds(seed, len(cells))):
        cfg = SimulationConfig(grid.sizes(overlap, ratio), draws=draws, seed=cell_seed)
        samples = simulate_methods(cfg, masks, methods=("golden", *methods))
        records += _cell_records(
            samples, methods=("golden", *methods), pairs=pairs, overlap=overlap, retain_ratio=ratio
        )
    return pd.DataFrame.from_records(records)


def ratio_sweep(
    sizes: BlockSizes,
    *,
    ratios: Sequence[float],
    leaks: Sequence[float],
    draws: int,
    seed: int,
    methods: Sequence[str] = ("rbm", "fbm"),
) -> pd.DataFrame:
    """Metrics and gaps of ``methods`` against the mask ratio, for each feature leak.

    Every (leak, ratio) pair uses the same draws (seed ``seed``; the leak only scales its own
    entries), so the curves differ only by the mask and the leak: common random numbers, by
    design. Returns rows (leak, ratio, method, metric, mean, se) as in :func:`phase_grid`.
    """
    import pandas as pd

    records = []
    chosen = ("golden", "ft", *methods)
    for leak in leaks:
        cfg = SimulationConfig(sizes, draws=draws, seed=seed, leak=leak)
        for ratio in ratios:
            samples = simulate_methods(cfg, MaskConfig(ratio=ratio), methods=chosen)
            records += _cell_records(samples, methods=chosen, leak=leak, ratio=ratio)
    return pd.DataFrame.from_records(records)


def with_theory(table: pd.DataFrame, sizes_of) -> pd.DataFrame:
    """Add the closed form (``theory``) and the z-score ``(mean - theory) / se`` to a grid table.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`phase_grid` or :func:`ratio_sweep` (noiseless).
    sizes_of : callable
        Maps a row to the :class:`BlockSizes` of its cell, e.g.
        ``lambda row: grid.sizes(row.overlap, row.retain_ratio)``.

    Returns
    -------
    pandas.DataFrame
        Rows of ``table`` whose (method, metric) has a closed form in
        :func:`rbmlib.theory.expected_losses` (the golden model, FT; not the gaps), with the
        columns ``theory``, ``z`` and ``structural``. Where the closed form is exactly 0 (an
        interpolation identity, ``structural`` true), the simulated mean is round-off: ``z`` is 0
        if it is below ``1e-12 * d`` and infinite otherwise. Such identities cannot miss by a
        sampling error, so agreement counts report them apart from the checks that could have
        failed (``structural`` false).
    """
    from rbmlib.theory import expected_losses

    rows = []
    for row in table.itertuples(index=False):
        if row.method not in ("original", "golden", "ft") or row.metric not in METRICS:
            continue
        sizes = sizes_of(row)
        theory = expected_losses(sizes, exact_only=True)[row.method][row.metric]
        if theory is None:
            continue
        if theory == 0:
            z = 0.0 if abs(row.mean) <= 1e-12 * sizes.d else np.inf
        else:
            z = (row.mean - theory) / row.se
        rows.append({**row._asdict(), "theory": theory, "z": z, "structural": theory == 0})
    import pandas as pd

    return pd.DataFrame.from_records(rows)


def paired_wins(
    table: pd.DataFrame, metric: str, *, winner: str, pair: tuple[str, str] = ("fbm", "rbm"), z: float = 2.0
) -> tuple[int, int]:
    """Cells with overlapping features where ``winner`` has the lower ``metric``, beyond ``z`` paired SEs.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`phase_grid` with the pair's ``"a-b"`` rows.
    metric : str
        A loss or a gap (lower is better), e.g. ``"fresh_remaining_loss"`` or ``"gap_avg_gap"``.
    winner : str
        One of the two methods of ``pair``.

    Returns
    -------
    (wins, cells) : tuple of int
        The number of cells with overlap > 0 where the per-draw difference favours ``winner`` by
        more than ``z`` standard errors of that difference, and the number of such cells.
    """
    a, b = pair
    if winner not in pair:
        raise ValueError(f"winner must be one of {pair}, got {winner!r}")
    rows = table[(table["method"] == f"{a}-{b}") & (table["metric"] == metric) & (table["overlap"] > 0)]
    if rows.empty:
        raise ValueError(f"the table has no paired rows {a}-{b} for metric {metric!r}")
    sign = 1.0 if winner == b else -1.0  # a - b > 0 means b is lower
    return int(np.sum(sign * rows["mean"] > z * rows["se"])), len(rows)


def phase_difference(table: pd.DataFrame, metric: str, *, minus: str = "rbm", of: str = "fbm") -> pd.DataFrame:
    """``of`` minus ``minus`` for one metric of :func:`phase_grid`, pivoted to overlap × retain ratio.

    With the defaults a positive cell means FBM's value is larger than RBM's: for a loss or a gap,
    RBM is better there.
    """
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ValueError(f"metric {metric!r} is not in the table; it has {sorted(table['metric'].unique())}")

    def pivot(method: str) -> pd.DataFrame:
        return rows[rows["method"] == method].pivot(index="overlap", columns="retain_ratio", values="mean")

    return pivot(of) - pivot(minus)
