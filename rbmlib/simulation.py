"""Monte Carlo over the block model: batched closed-form fits and their losses.

The engine fits every model in closed form (no gradient-descent loop), factors the Gram matrix
of each draw once and shares the factor between the models, and processes the draws in batches.
Draws are stored by support (:class:`BlockBatch`): the structural zeros of :math:`X_f` and
:math:`X_r` are never drawn, stored or multiplied, and the Gram matrix is assembled from its
three non-trivial blocks.

Draw ``i`` always comes from child ``i`` of ``np.random.default_rng(seed)`` and every fit works
on one draw at a time, so the numbers are bit-for-bit independent of the batch size. BLAS runs
single-threaded inside the engine: the matrices are small, and threaded BLAS on many small
products is slower (much slower on a busy machine), not faster.

This module holds the linear side's one batching loop (:func:`run_batches` over
:func:`iter_batches`, drawing with the one sampler :func:`rbmlib.linear_model.sample_block_batch`),
its one way of limiting BLAS threads (:func:`single_threaded_blas`) and its seeds for grids
(:func:`cell_seeds`, :func:`with_cell_seeds`); the masking engine (:mod:`rbmlib.experiments`)
and the regularised models (:mod:`rbmlib.regularised_models`) draw through them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dposv, dpotrs
from threadpoolctl import ThreadpoolController

from rbmlib.linear_model import (
    _RANK_TOL,
    BlockBatch,
    BlockSizes,
    LinearInstance,
    _check_leak,
    _check_noise,
    _check_scales,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    remaining_loss,
    sample_block_batch,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METRIC_ANALOGUES",
    "METRICS",
    "BASE_METHODS",
    "SimulationConfig",
    "BlockBatch",
    "sample_block_batch",
    "single_threaded_blas",
    "draw_generators",
    "cell_seeds",
    "with_cell_seeds",
    "run_batches",
    "block_model_weights",
    "evaluate_blocks",
    "model_weights",
    "evaluate",
    "iter_batches",
    "simulate",
    "summarise",
    "sweep",
]

#: Metrics reported for every method, in table order.
METRICS: tuple[str, ...] = ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")

#: The deep-unlearning metric each loss stands for in regression (Chapter 1 defines them):
#: the forgetting loss on :math:`D_f` plays UA (higher = more forgotten), the loss on :math:`D_r`
#: itself plays RA, and the excess loss on fresh remaining-distribution data plays TA.
METRIC_ANALOGUES: dict[str, str] = {
    "forgetting_loss": "UA",
    "remaining_loss": "RA",
    "fresh_remaining_loss": "TA",
}

#: The methods of Chapter 1 (the original, the golden retrain and fine-tuning), in table order.
BASE_METHODS: tuple[str, ...] = ("original", "golden", "ft")


@dataclass(frozen=True)
class SimulationConfig:
    """One Monte Carlo experiment on the block model: the data model and its draws.

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
    teacher_scales : (float, float, float), default (1, 1, 1)
        Standard deviations :math:`(s_f, s_o, s_r)` of the teacher on :math:`S_f, S_o, S_r`:
        :math:`w_* \\sim N(0, \\mathrm{diag}(s_f^2 I, s_o^2 I, s_r^2 I))`. Chapter 3 uses an
        anisotropic teacher to test the block-norm form of its theorem.
    leak : float, default 0.0
        Feature leak :math:`\\varepsilon \\ge 0` of the data model: off-support entries are
        :math:`\\varepsilon N(0, 1)` instead of 0 (Chapter 4). A property of the data, so it lives
        here and not in the mask configuration.
    """

    sizes: BlockSizes
    draws: int = 300
    seed: int = 0
    noise: float = 0.0
    batch_size: int = 256
    teacher_scales: tuple[float, float, float] = (1.0, 1.0, 1.0)
    leak: float = 0.0

    def __post_init__(self) -> None:
        if self.draws < 2:
            raise ValueError(f"draws must be >= 2 to estimate a standard error, got {self.draws}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        _check_noise(self.noise)
        _check_scales(self.teacher_scales)
        _check_leak(self.leak)

    def to_dict(self) -> dict:
        """Flat, JSON-ready settings (the CLI's ``"settings"`` object)."""
        return {
            **asdict(self.sizes),
            "draws": self.draws,
            "seed": self.seed,
            "noise": self.noise,
            "teacher_scales": [float(s) for s in self.teacher_scales],
            "leak": self.leak,
        }


@cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries numpy and scipy loaded (found once: the search takes about a millisecond)."""
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread: the one way the linear side sets BLAS threads.

    The matrices of the linear chapters are small, and threaded BLAS on many small products is
    slower (much slower on a busy machine), not faster.
    """
    return _blas().limit(limits=1, user_api="blas")


def _original_fit(F: np.ndarray, R: np.ndarray, y: np.ndarray, sizes: BlockSizes, w_o: np.ndarray) -> np.ndarray:
    """Fit the original model of one draw into ``w_o (d,)``; return the Cholesky factor it used.

    ``F (n_f, d_f + d_o)`` and ``R (n_r, m)`` are the inputs on their supports and
    ``y = (y_r, y_f)``. The Gram matrix :math:`G = X X^\\top` (remaining rows first) is assembled
    from its blocks: only the shared columns couple the two data sets, so the off-diagonal block
    :math:`B_f R_o^\\top` is a product over :math:`d_o` coordinates, not :math:`d`. Only its lower
    triangle is formed, in Fortran order, and one LAPACK call factors it in place,
    :math:`G = L L^\\top`, and solves for :math:`\\alpha = G^{-1} y`; then :math:`w_o = X^\\top \\alpha`.
    """
    n_r, d_f, d_o = sizes.n_r, sizes.d_f, sizes.d_o
    n = n_r + sizes.n_f
    G = np.empty((n, n), order="F")
    G[:n_r, :n_r] = R @ R.T  # numpy computes A @ A.T with a symmetric rank-k update
    G[n_r:, n_r:] = F @ F.T
    G[n_r:, :n_r] = F[:, d_f:] @ R[:, :d_o].T
    L, alpha, info = dposv(G, y, lower=1, overwrite_a=1)
    diag = np.diagonal(L)
    if info != 0 or (diag.min() / diag.max()) ** 2 <= _RANK_TOL:
        raise ValueError(
            f"a Gram matrix X X^T of shape {G.shape} is numerically rank-deficient; "
            "the interpolating fits need linearly independent rows"
        )
    w_o[sizes.forget_support] = F.T @ alpha[n_r:]
    w_o[sizes.retain_support] += R.T @ alpha[:n_r]
    return L


def _refit_retain(R: np.ndarray, y_r: np.ndarray, L: np.ndarray, inits: np.ndarray, sizes: BlockSizes) -> np.ndarray:
    """:math:`\\mathrm{fit}(w_{init}, X_r, y_r)` of one draw for several starts, ``inits (j, d)``.

    The leading :math:`n_r \\times n_r` block of the draw's factor ``L`` is the Cholesky factor of
    :math:`X_r X_r^\\top`; every start shares it, in one LAPACK call.
    """
    n_r, rs = sizes.n_r, sizes.retain_support
    residual = np.empty((n_r, inits.shape[0]), order="F")  # (n_r, j)
    residual[...] = y_r[:, None] - R @ inits[:, rs].T
    coef, _ = dpotrs(L[:n_r, :n_r], residual, lower=1)
    out = inits.copy()
    out[:, rs] += (R.T @ coef).T  # X_r^+ residual, on S_o ∪ S_r
    return out


def block_model_weights(batch: BlockBatch) -> dict[str, np.ndarray]:
    """Weights ``(B, d)`` of every model of :data:`BASE_METHODS`, one Cholesky factor per draw.

    Notes
    -----
    With :math:`G = X X^\\top = L L^\\top` (remaining rows first), :math:`w_o = X^\\top G^{-1} y`.
    The leading :math:`n_r \\times n_r` block of :math:`L` is the factor of :math:`X_r X_r^\\top`, so
    the golden model :math:`\\mathrm{fit}(0, X_r, y_r)` and the fine-tuned model
    :math:`\\mathrm{fit}(w_o, X_r, y_r)` reuse it (Chapter 1, Lemma 1.1). The draws are fitted one
    at a time: each draw's inputs stay in cache through all its products, and no result can
    depend on how the draws are batched.
    """
    sizes = batch.sizes
    weights = np.zeros((batch.F.shape[0], len(BASE_METHODS), sizes.d))  # (B, model, d)
    y = np.concatenate([batch.y_r, batch.y_f], axis=-1)
    if batch.leak > 0:
        raise ValueError(
            "the block-sparse fits assume exact supports; a leaky batch needs the dense fits (model_weights)"
        )
    with single_threaded_blas():  # small products: threads only cost
        for i, w in enumerate(weights):
            L = _original_fit(batch.F[i], batch.R[i], y[i], sizes, w[0])
            starts = w[[1, 0]]  # golden from 0 (row 1 is still zero), fine-tuning from w_o
            w[1:] = _refit_retain(batch.R[i], batch.y_r[i], L, starts, sizes)
    return {model: weights[:, k] for k, model in enumerate(BASE_METHODS)}


def evaluate_blocks(weights: Mapping[str, np.ndarray], batch: BlockBatch) -> dict[str, dict[str, np.ndarray]]:
    """Every metric of :data:`METRICS` for every model on a :class:`BlockBatch`: arrays of shape ``(B,)``.

    The same losses as :func:`evaluate` (:mod:`rbmlib.linear_model`), computed on the supports.
    """
    s = batch.sizes
    rs = s.retain_support

    def fresh(w: np.ndarray) -> np.ndarray:
        loss = np.sum((w[:, rs] - batch.w_star[:, rs]) ** 2, axis=-1)
        if batch.leak > 0:  # a fresh input also has eps N(0, 1) entries on S_f
            loss = loss + batch.leak**2 * np.sum((w[:, : s.d_f] - batch.w_star[:, : s.d_f]) ** 2, axis=-1)
        return loss

    return {
        model: {
            "forgetting_loss": np.mean((batch.predict_forget(w) - batch.y_f) ** 2, axis=-1),
            "remaining_loss": np.mean((batch.predict_retain(w) - batch.y_r) ** 2, axis=-1),
            "fresh_remaining_loss": fresh(w),
        }
        for model, w in weights.items()
    }


def model_weights(instance: LinearInstance) -> dict[str, np.ndarray]:
    """Weights of every model of :data:`BASE_METHODS` for a dense instance (the per-instance reference)."""
    fits = fit_models(instance)
    return {"original": fits.w_o, "golden": fits.w_g, "ft": fits.w_t}


def evaluate(weights: Mapping[str, np.ndarray], instance: LinearInstance) -> dict[str, dict[str, np.ndarray]]:
    """Every metric of :data:`METRICS` for every model of a dense instance: ``result[model][metric]``."""
    metric_fns = {
        "forgetting_loss": forgetting_loss,
        "remaining_loss": remaining_loss,
        "fresh_remaining_loss": fresh_remaining_loss,
    }
    return {model: {name: fn(w, instance) for name, fn in metric_fns.items()} for model, w in weights.items()}


def draw_generators(cfg: SimulationConfig) -> list[np.random.Generator]:
    """One independent generator per draw: child ``i`` of ``np.random.default_rng(cfg.seed)``."""
    return np.random.default_rng(cfg.seed).spawn(cfg.draws)


def cell_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds, one per grid cell (or per check), spawned from ``seed``.

    Cell seeds of the form ``seed + k`` would make neighbouring grids share streams; spawned
    children of :class:`numpy.random.SeedSequence` do not. The seeds are integers so that every
    :class:`SimulationConfig` stays JSON-ready.
    """
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n)]


def with_cell_seeds(configs: Sequence[SimulationConfig], seed: int) -> list[SimulationConfig]:
    """``configs`` with config ``k`` seeded by the ``k``-th of :func:`cell_seeds` (``seed``, ``len(configs)``).

    For a sweep: every point draws an independent stream instead of re-using one root seed.
    """
    return [replace(cfg, seed=s) for cfg, s in zip(configs, cell_seeds(seed, len(configs)))]


def iter_batches(cfg: SimulationConfig) -> Iterator[BlockBatch]:
    """The draws of ``cfg`` as :class:`BlockBatch` es of at most ``cfg.batch_size`` draws each."""
    children = draw_generators(cfg)
    for start in range(0, cfg.draws, cfg.batch_size):
        yield sample_block_batch(
            cfg.sizes,
            children[start : start + cfg.batch_size],
            noise=cfg.noise,
            teacher_scales=cfg.teacher_scales,
            leak=cfg.leak,
        )


def run_batches(
    cfg: SimulationConfig,
    metrics_of: Callable[[BlockBatch], Mapping[str, Mapping[str, np.ndarray]]],
    *,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """The one batching loop of the linear side: ``metrics_of`` on every batch, concatenated.

    Parameters
    ----------
    cfg : SimulationConfig
        The draws (:func:`iter_batches`).
    metrics_of : callable
        Maps a :class:`BlockBatch` to ``result[method][metric]``, arrays of shape ``(B,)``.
    on_batch : callable, optional
        Called with the number of draws of each finished batch (progress).

    Returns
    -------
    dict
        ``samples[method][metric]`` of shape ``(draws,)``, in the order ``metrics_of`` returns.
        BLAS runs single-threaded throughout (:func:`single_threaded_blas`).
    """
    chunks = []
    with single_threaded_blas():
        for batch in iter_batches(cfg):
            chunks.append(metrics_of(batch))
            if on_batch is not None:
                on_batch(batch.size)
    return {name: {m: np.concatenate([c[name][m] for c in chunks]) for m in chunks[0][name]} for name in chunks[0]}


def _core_metrics(batch: BlockBatch) -> dict[str, dict[str, np.ndarray]]:
    if batch.leak > 0:  # a leak fills the structural zeros: dense fits
        instance = batch.to_instance()
        return evaluate(model_weights(instance), instance)
    return evaluate_blocks(block_model_weights(batch), batch)


def simulate(
    cfg: SimulationConfig, *, on_batch: Callable[[int], None] | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw metrics of every model of :data:`BASE_METHODS`: ``samples[method][metric]`` has shape ``(draws,)``.

    Without a leak the block-sparse fits (:func:`block_model_weights`); with one the dense fits.
    ``on_batch``, if given, is called with the number of draws of each finished batch (progress).
    """
    return run_batches(cfg, _core_metrics, on_batch=on_batch)


def summarise(samples: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """Mean and standard error of every metric of every method, one row per method.

    Parameters
    ----------
    samples : mapping
        ``samples[method][metric]``, per-draw values (e.g. :func:`simulate`).

    Returns
    -------
    pandas.DataFrame
        Columns ``method`` and, per metric, ``<metric>_mean`` and ``<metric>_se``, rows in the
        order of ``samples`` (the layout of :func:`rbmlib.deep.results` summaries, with the
        standard error of the mean instead of a standard deviation over seeds). The standard
        error is :math:`s/\\sqrt{n}` with the unbiased sample standard deviation ``s``.
    """
    import pandas as pd

    records = []
    for method, metrics in samples.items():
        record: dict[str, object] = {"method": method}
        for name, values in metrics.items():
            record[f"{name}_mean"] = float(np.mean(values))
            record[f"{name}_se"] = float(np.std(values, ddof=1) / np.sqrt(values.size))
        records.append(record)
    return pd.DataFrame.from_records(records)


def sweep(configs: Sequence[SimulationConfig]) -> pd.DataFrame:
    """Simulate several experiments and tabulate them beside their closed forms.

    Returns
    -------
    pandas.DataFrame
        One row per (config, method, metric) with the block sizes, ``noise``, ``draws``,
        ``overlap`` :math:`= d_o/(d_f + d_o)`, ``method``, ``metric``, the Monte Carlo ``mean`` and
        ``se``, ``ci95`` (:math:`1.96\\,\\mathrm{se}`, the half-width of a normal 95% interval) and
        ``theory`` (:func:`rbmlib.theory.expected_losses`; ``NaN`` where there is no closed form).
    """
    import pandas as pd

    from rbmlib.theory import expected_losses

    records = []
    for cfg in configs:
        theory = expected_losses(cfg.sizes, noise=cfg.noise, teacher_scales=cfg.teacher_scales, exact_only=True)
        s = cfg.sizes
        for row in summarise(simulate(cfg)).itertuples(index=False):
            for metric in METRICS:
                value = theory[row.method][metric]
                se = getattr(row, f"{metric}_se")
                records.append(
                    {
                        **asdict(s),
                        "noise": cfg.noise,
                        "draws": cfg.draws,
                        "overlap": s.d_o / (s.d_f + s.d_o),
                        "method": row.method,
                        "metric": metric,
                        "mean": getattr(row, f"{metric}_mean"),
                        "se": se,
                        "ci95": 1.96 * se,
                        "theory": np.nan if value is None else value,
                    }
                )
    return pd.DataFrame.from_records(records)
