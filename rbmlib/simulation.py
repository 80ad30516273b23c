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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dposv, dpotrs
from threadpoolctl import ThreadpoolController

from rbmlib.linear_model import (
    _RANK_TOL,
    BlockSizes,
    LinearInstance,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    remaining_loss,
)
from rbmlib.validators import finite_nonnegative

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METRIC_ANALOGUES",
    "METRICS",
    "MODELS",
    "SimulationConfig",
    "BlockBatch",
    "sample_block_batch",
    "block_model_weights",
    "evaluate_blocks",
    "model_weights",
    "evaluate",
    "iter_batches",
    "simulate",
    "summarise",
    "sweep",
]

#: Metrics reported for every model, in table order.
METRICS: tuple[str, ...] = ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")

#: The deep-unlearning metric each loss stands for in regression (Chapter 1 defines them):
#: the forgetting loss on :math:`D_f` plays UA (higher = more forgotten), the loss on :math:`D_r`
#: itself plays RA, and the excess loss on fresh remaining-distribution data plays TA.
METRIC_ANALOGUES: dict[str, str] = {
    "forgetting_loss": "UA",
    "remaining_loss": "RA",
    "fresh_remaining_loss": "TA",
}

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
    teacher_scales : (float, float, float), default (1, 1, 1)
        Standard deviations :math:`(s_f, s_o, s_r)` of the teacher on :math:`S_f, S_o, S_r`:
        :math:`w_* \\sim N(0, \\mathrm{diag}(s_f^2 I, s_o^2 I, s_r^2 I))`. Chapter 3 uses an
        anisotropic teacher to test the block-norm form of its theorem.
    """

    sizes: BlockSizes
    draws: int = 300
    seed: int = 0
    noise: float = 0.0
    batch_size: int = 256
    teacher_scales: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if self.draws < 2:
            raise ValueError(f"draws must be >= 2 to estimate a standard error, got {self.draws}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        finite_nonnegative(self.noise, "noise")
        scales = tuple(self.teacher_scales)
        if len(scales) != 3 or not all(np.isfinite(s) and s >= 0 for s in scales):
            raise ValueError(f"teacher_scales must be three finite values >= 0 (s_f, s_o, s_r), got {scales}")

    def to_dict(self) -> dict:
        """Flat, JSON-ready settings (the CLI's ``"settings"`` object)."""
        return {
            **asdict(self.sizes),
            "draws": self.draws,
            "seed": self.seed,
            "noise": self.noise,
            "teacher_scales": [float(s) for s in self.teacher_scales],
        }


@dataclass(frozen=True)
class BlockBatch:
    """A batch of draws of the block model, stored by support.

    Attributes
    ----------
    F : ndarray, shape (B, n_f, d_f + d_o)
        Forgetting inputs on their support :math:`S_f \\cup S_o`.
    R : ndarray, shape (B, n_r, d_o + d_r)
        Remaining inputs on their support :math:`S_o \\cup S_r`.
    y_f : ndarray, shape (B, n_f)
    y_r : ndarray, shape (B, n_r)
    w_star : ndarray, shape (B, d)
    sizes : BlockSizes
    noise : float
    """

    F: np.ndarray
    R: np.ndarray
    y_f: np.ndarray
    y_r: np.ndarray
    w_star: np.ndarray
    sizes: BlockSizes
    noise: float = 0.0

    def predict_forget(self, w: np.ndarray) -> np.ndarray:
        """:math:`X_f w`, shape ``(B, n_f)``, for weights ``w`` of shape ``(B, d)``."""
        return _matvec(self.F, w[:, self.sizes.forget_support])

    def predict_retain(self, w: np.ndarray) -> np.ndarray:
        """:math:`X_r w`, shape ``(B, n_r)``, for weights ``w`` of shape ``(B, d)``."""
        return _matvec(self.R, w[:, self.sizes.retain_support])

    def to_instance(self) -> LinearInstance:
        """The same draws as a dense :class:`~rbmlib.linear_model.LinearInstance` (zeros filled in)."""
        batch, (n_f, n_r, d) = self.F.shape[0], (self.sizes.n_forget, self.sizes.n_retain, self.sizes.d)
        X_f, X_r = np.zeros((batch, n_f, d)), np.zeros((batch, n_r, d))
        X_f[:, :, self.sizes.forget_support] = self.F
        X_r[:, :, self.sizes.retain_support] = self.R
        return LinearInstance(X_f, self.y_f, X_r, self.y_r, self.w_star, self.sizes, self.noise)


def _matvec(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(B, n, p) @ (B, p) -> (B, n)``: one BLAS product per draw, whatever ``B`` is."""
    return np.matmul(A, x[..., None])[..., 0]


def sample_block_batch(
    sizes: BlockSizes,
    generators: Sequence[np.random.Generator],
    *,
    noise: float = 0.0,
    teacher_scales: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> BlockBatch:
    """Draw one instance per generator, sampling only the support entries.

    Each generator is consumed exactly as :func:`rbmlib.linear_model.sample_instance` consumes it
    (teacher, forgetting inputs, remaining inputs, then the two noise vectors), so with unit
    ``teacher_scales`` a draw equals ``sample_instance(sizes, rng=generator)`` up to round-off in
    the labels.
    """
    if len(generators) < 1:
        raise ValueError("need at least one generator")
    finite_nonnegative(noise, "noise")
    batch, d, n_f, n_r = len(generators), sizes.d, sizes.n_forget, sizes.n_retain
    fs, rs = sizes.forget_support, sizes.retain_support
    w_star = np.empty((batch, d))
    F = np.empty((batch, n_f, fs.stop - fs.start))
    R = np.empty((batch, n_r, rs.stop - rs.start))
    eps_f, eps_r = np.zeros((batch, n_f)), np.zeros((batch, n_r))
    for i, g in enumerate(generators):
        g.standard_normal(out=w_star[i])
        g.standard_normal(out=F[i])
        g.standard_normal(out=R[i])
        if noise > 0:
            g.standard_normal(out=eps_f[i])
            g.standard_normal(out=eps_r[i])
    if tuple(teacher_scales) != (1.0, 1.0, 1.0):
        scale = np.concatenate(
            [np.full(n, float(s)) for n, s in zip((sizes.d_forget, sizes.d_shared, sizes.d_retain), teacher_scales)]
        )
        w_star *= scale
    y_f = _matvec(F, w_star[:, fs]) + noise * eps_f
    y_r = _matvec(R, w_star[:, rs]) + noise * eps_r
    return BlockBatch(F, R, y_f, y_r, w_star, sizes, float(noise))


@cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries numpy and scipy loaded (found once: the search takes about a millisecond)."""
    return ThreadpoolController()


def _original_fit(F: np.ndarray, R: np.ndarray, y: np.ndarray, sizes: BlockSizes, w_o: np.ndarray) -> np.ndarray:
    """Fit the original model of one draw into ``w_o (d,)``; return the Cholesky factor it used.

    ``F (n_f, d_f + d_o)`` and ``R (n_r, m)`` are the inputs on their supports and
    ``y = (y_r, y_f)``. The Gram matrix :math:`G = X X^\\top` (remaining rows first) is assembled
    from its blocks: only the shared columns couple the two data sets, so the off-diagonal block
    :math:`B_f R_o^\\top` is a product over :math:`d_o` coordinates, not :math:`d`. Only its lower
    triangle is formed, in Fortran order, and one LAPACK call factors it in place,
    :math:`G = L L^\\top`, and solves for :math:`\\alpha = G^{-1} y`; then :math:`w_o = X^\\top \\alpha`.
    """
    n_r, d_f, d_o = sizes.n_retain, sizes.d_forget, sizes.d_shared
    n = n_r + sizes.n_forget
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
    n_r, rs = sizes.n_retain, sizes.retain_support
    residual = np.empty((n_r, inits.shape[0]), order="F")  # (n_r, j)
    residual[...] = y_r[:, None] - R @ inits[:, rs].T
    coef, _ = dpotrs(L[:n_r, :n_r], residual, lower=1)
    out = inits.copy()
    out[:, rs] += (R.T @ coef).T  # X_r^+ residual, on S_o ∪ S_r
    return out


def block_model_weights(batch: BlockBatch) -> dict[str, np.ndarray]:
    """Weights ``(B, d)`` of every model of :data:`MODELS`, one Cholesky factor per draw.

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
    weights = np.zeros((batch.F.shape[0], len(MODELS), sizes.d))  # (B, model, d)
    y = np.concatenate([batch.y_r, batch.y_f], axis=-1)
    with _blas().limit(limits=1, user_api="blas"):  # small products: threads only cost
        for i, w in enumerate(weights):
            L = _original_fit(batch.F[i], batch.R[i], y[i], sizes, w[0])
            starts = w[[1, 0]]  # golden from 0 (row 1 is still zero), fine-tuning from w_o
            w[1:] = _refit_retain(batch.R[i], batch.y_r[i], L, starts, sizes)
    return {model: weights[:, k] for k, model in enumerate(MODELS)}


def evaluate_blocks(weights: Mapping[str, np.ndarray], batch: BlockBatch) -> dict[str, dict[str, np.ndarray]]:
    """Every metric of :data:`METRICS` for every model on a :class:`BlockBatch`: arrays of shape ``(B,)``.

    The same losses as :func:`evaluate` (:mod:`rbmlib.linear_model`), computed on the supports.
    """
    rs = batch.sizes.retain_support
    return {
        model: {
            "forgetting_loss": np.mean((batch.predict_forget(w) - batch.y_f) ** 2, axis=-1),
            "remaining_loss": np.mean((batch.predict_retain(w) - batch.y_r) ** 2, axis=-1),
            "fresh_remaining_loss": np.sum((w[:, rs] - batch.w_star[:, rs]) ** 2, axis=-1),
        }
        for model, w in weights.items()
    }


def model_weights(instance: LinearInstance) -> dict[str, np.ndarray]:
    """Weights of every model of :data:`MODELS` for a dense instance (the per-instance reference)."""
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


def iter_batches(cfg: SimulationConfig) -> Iterator[BlockBatch]:
    """The draws of ``cfg`` as :class:`BlockBatch` es of at most ``cfg.batch_size`` draws each."""
    children = np.random.default_rng(cfg.seed).spawn(cfg.draws)
    for start in range(0, cfg.draws, cfg.batch_size):
        yield sample_block_batch(
            cfg.sizes, children[start : start + cfg.batch_size], noise=cfg.noise, teacher_scales=cfg.teacher_scales
        )


def simulate(
    cfg: SimulationConfig, *, on_batch: Callable[[int], None] | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw metrics of every model: ``samples[model][metric]`` has shape ``(draws,)``.

    ``on_batch``, if given, is called with the number of draws of each finished batch (progress).
    """
    chunks = []
    with _blas().limit(limits=1, user_api="blas"):
        for batch in iter_batches(cfg):
            chunks.append(evaluate_blocks(block_model_weights(batch), batch))
            if on_batch is not None:
                on_batch(batch.y_f.shape[0])
    return {model: {m: np.concatenate([c[model][m] for c in chunks]) for m in METRICS} for model in chunks[0]}


def summarise(samples: Mapping[str, Mapping[str, np.ndarray]]) -> list[dict]:
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


def sweep(configs: Sequence[SimulationConfig]) -> pd.DataFrame:
    """Simulate several experiments and tabulate them beside their closed forms.

    Returns
    -------
    pandas.DataFrame
        One row per (config, model, metric) with the block sizes, ``noise``, ``draws``,
        ``overlap`` :math:`= d_o/(d_f + d_o)`, ``model``, ``metric``, the Monte Carlo ``mean`` and
        ``se``, ``ci95`` (:math:`1.96\\,\\mathrm{se}`, the half-width of a normal 95% interval) and
        ``theory`` (:func:`rbmlib.theory.expected_losses`; ``NaN`` where there is no closed form).
    """
    import pandas as pd

    from rbmlib.theory import expected_losses

    records = []
    for cfg in configs:
        theory = expected_losses(cfg.sizes, noise=cfg.noise, teacher_scales=cfg.teacher_scales, exact_only=True)
        s = cfg.sizes
        for row in summarise(simulate(cfg)):
            for metric in METRICS:
                value = theory[row["model"]][metric]
                records.append(
                    {
                        **asdict(s),
                        "noise": cfg.noise,
                        "draws": cfg.draws,
                        "overlap": s.d_shared / (s.d_forget + s.d_shared),
                        "model": row["model"],
                        "metric": metric,
                        **row[metric],
                        "ci95": 1.96 * row[metric]["se"],
                        "theory": np.nan if value is None else value,
                    }
                )
    return pd.DataFrame.from_records(records)
