"""Monte Carlo over the block model: batched closed-form fits and their losses.

The engine fits every model in closed form (no gradient-descent loop), shares one Cholesky
factor per draw between the models (:func:`rbmlib.linear_model.fit_models`) and processes the
draws in batches. Draw ``i`` always comes from child ``i`` of ``np.random.default_rng(seed)``, so
results do not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from rbmlib.linear_model import (
    BlockSizes,
    LinearInstance,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    instances_from_generators,
    remaining_loss,
)

__all__ = [
    "METRICS",
    "MODELS",
    "SimulationConfig",
    "model_weights",
    "evaluate",
    "iter_batches",
    "simulate",
    "summarise",
]

#: Metrics reported for every model, in table order.
METRICS: tuple[str, ...] = ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")

#: Models of Chapter 1, in table order.
MODELS: tuple[str, ...] = ("original", "golden", "ft")


@dataclass(frozen=True)
class SimulationConfig:
    """One Monte Carlo experiment on the block model.

    Parameters
    ----------
    sizes : BlockSizes
        Block sizes :math:`(d_f, d_o, d_r, n_f, n_r)`.
    draws : int, default 300
        Number of independent instances.
    seed : int, default 0
        Seed of the root generator; draw ``i`` uses its ``i``-th spawned child.
    noise : float, default 0.0
        Label-noise standard deviation :math:`\\sigma`.
    batch_size : int, default 256
        Draws fitted together; affects speed and memory only, never the numbers.
    """

    sizes: BlockSizes
    draws: int = 300
    seed: int = 0
    noise: float = 0.0
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.draws < 2:
            raise ValueError(f"draws must be >= 2 to estimate a standard error, got {self.draws}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not np.isfinite(self.noise) or self.noise < 0:
            raise ValueError(f"noise must be finite and >= 0, got {self.noise}")

    def to_dict(self) -> dict:
        """Flat, JSON-ready settings (the CLI's ``"settings"`` object)."""
        return {**asdict(self.sizes), "draws": self.draws, "seed": self.seed, "noise": self.noise}


def model_weights(instance: LinearInstance) -> dict[str, np.ndarray]:
    """Weights of every model of :data:`MODELS` for an instance (batched or not)."""
    fits = fit_models(instance)
    return {"original": fits.w_o, "golden": fits.w_g, "ft": fits.w_t}


def evaluate(weights: dict[str, np.ndarray], instance: LinearInstance) -> dict[str, dict[str, np.ndarray]]:
    """Every metric of :data:`METRICS` for every model: ``result[model][metric]`` has shape ``(...)``."""
    metric_fns = {
        "forgetting_loss": forgetting_loss,
        "remaining_loss": remaining_loss,
        "fresh_remaining_loss": fresh_remaining_loss,
    }
    return {
        model: {name: fn(w, instance) for name, fn in metric_fns.items()}
        for model, w in weights.items()
    }


def iter_batches(cfg: SimulationConfig) -> Iterator[LinearInstance]:
    """The draws of ``cfg`` as batched instances of at most ``cfg.batch_size`` draws each."""
    children = np.random.default_rng(cfg.seed).spawn(cfg.draws)
    for start in range(0, cfg.draws, cfg.batch_size):
        yield instances_from_generators(
            cfg.sizes, children[start : start + cfg.batch_size], noise=cfg.noise
        )


def simulate(cfg: SimulationConfig) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw metrics of every model: ``samples[model][metric]`` has shape ``(draws,)``."""
    chunks = [evaluate(model_weights(batch), batch) for batch in iter_batches(cfg)]
    return {
        model: {m: np.concatenate([c[model][m] for c in chunks]) for m in METRICS}
        for model in chunks[0]
    }


def summarise(samples: dict[str, dict[str, np.ndarray]]) -> list[dict]:
    """Rows ``{"model": name, metric: {"mean": ..., "se": ...}, ...}`` in the order of ``samples``.

    The standard error is :math:`s/\\sqrt{n}` with the unbiased sample standard deviation ``s``.
    """
    return [
        {
            "model": model,
            **{
                name: {
                    "mean": float(np.mean(values)),
                    "se": float(np.std(values, ddof=1) / np.sqrt(values.size)),
                }
                for name, values in metrics.items()
            },
        }
        for model, metrics in samples.items()
    ]
