"""The running example of the linear chapters: one block-size setting, one seeded batch of draws.

Every number the book quotes "at the running example" — in the introduction's claims table, in
Chapter 4's tables and in its verdicts — comes from :func:`example_samples`, so the same quantity
shows the same value wherever it appears. The batch is a pure function of
(:data:`SIZES`, :data:`DRAWS`, :data:`SEED`), so it is the same in every notebook kernel and in
``python -m rbmlib claims``; within one process it is computed once.

Every "±" quoted from it is a **standard error** of the mean over the :data:`DRAWS` instances.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rbmlib.linear_model import BlockSizes, LinearInstance
from rbmlib.simulation import SimulationConfig

__all__ = [
    "SIZES",
    "FULL_OVERLAP_SIZES",
    "DRAWS",
    "SEED",
    "METHODS",
    "example_config",
    "example_samples",
    "example_core_samples",
    "SMALL_SIZES",
    "EARLY_STOPPING_SEED",
    "early_stopping_instance",
]

#: :math:`(d_f, d_o, d_r, n_f, n_r)` of the running example.
SIZES = BlockSizes(d_f=160, d_o=40, d_r=200, n_f=40, n_r=80)

#: The running example with full overlap: every forget-only coordinate made shared (:math:`d_f = 0`).
FULL_OVERLAP_SIZES = BlockSizes(d_f=0, d_o=200, d_r=200, n_f=40, n_r=80)

#: Instances in the shared batch (enough for standard errors of about 1% of the golden loss).
DRAWS = 200

#: Root seed of the shared batch; draw ``i`` comes from child ``i`` of ``default_rng(SEED)``.
SEED = 0

#: Every model evaluated on the batch: the three of Chapter 1, the four masking methods of
#: Chapter 4 and the two reset points before fine-tuning.
METHODS: tuple[str, ...] = (
    "original",
    "golden",
    "ft",
    "rbm",
    "fbm",
    "rbm_masked",
    "fbm_masked",
    "rbm_reset",
    "fbm_reset",
)


#: The small sizes of Chapter 1, whose descent paths are drawn step by step.
SMALL_SIZES = BlockSizes(d_f=40, d_o=10, d_r=50, n_f=10, n_r=20)

#: Root seed of the one instance whose original is early-stopped (Chapter 1's curve, claim C2's
#: check); a root of its own, so the instance is independent of every draw of the batch.
EARLY_STOPPING_SEED = 1


def early_stopping_instance(sizes: BlockSizes = SMALL_SIZES) -> LinearInstance:
    """The instance of Chapter 1's early-stopping curve and of claim C2's check.

    Both draw it at :data:`SMALL_SIZES`, so the fractions C2's verdict quotes are points of the
    chapter's figure; a reader who changes the chapter's sizes gets an instance of the new sizes
    from the same seed.
    """
    from rbmlib.linear_model import sample_instance

    return sample_instance(sizes, rng=np.random.default_rng(EARLY_STOPPING_SEED))


def example_config(sizes: BlockSizes = SIZES) -> SimulationConfig:
    """The :class:`~rbmlib.simulation.SimulationConfig` of the shared batch at ``sizes``."""
    return SimulationConfig(sizes, draws=DRAWS, seed=SEED)


@lru_cache(maxsize=4)
def example_samples(sizes: BlockSizes = SIZES) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw losses of every model of :data:`METHODS` on the shared batch at ``sizes``.

    Returns
    -------
    dict
        ``samples[model][metric]``, shape ``(DRAWS,)``, read-only (the batch is shared).
    """
    from rbmlib.experiments import simulate_methods

    samples = simulate_methods(example_config(sizes), methods=METHODS)
    for metrics in samples.values():
        for values in metrics.values():
            values.setflags(write=False)
    return samples


@lru_cache(maxsize=4)
def example_core_samples(sizes: BlockSizes = SIZES) -> dict[str, dict[str, np.ndarray]]:
    """The original, golden and FT losses of the shared batch, from the fast block-sparse engine.

    The same draws as :func:`example_samples` (both engines read draw ``i`` from child ``i`` of
    the root generator), so the values agree with its rows to round-off (the tests check it); the
    chapters that need only these three models use this, roughly twenty times faster.
    """
    from rbmlib.simulation import simulate

    samples = simulate(example_config(sizes))
    for metrics in samples.values():
        for values in metrics.values():
            values.setflags(write=False)
    return samples
