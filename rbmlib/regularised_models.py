"""Every model of the linear chapters under weight decay or a finite step budget (Chapter 7; the CLI's
``--ridge``/``--steps``).

Two modes, both with PyTorch's weight-decay convention (:mod:`rbmlib.regularisation`):

* **ridge limit** (``steps=None``, :math:`\\lambda > 0`): every stage is run to convergence. The
  *measured* weights are limits computed from each model's own start
  (:func:`~rbmlib.regularisation.ridge_finetune`); the *closed forms* are the minimisers the
  chapter derives — for FT, RBM and FBM (reset, then FT) that is the regularised retrain
  :func:`~rbmlib.regularisation.ridge_fit` of :math:`D_r`, whatever the start (Proposition 7.1);
* **finite budget** (``steps=K``): every stage takes ``K`` steps of size ``lr``. The *measured*
  weights come from iterating the updates (batched over draws); the *closed forms* from
  :func:`~rbmlib.regularisation.descend`.

Stages: original from 0 on :math:`D`; golden from 0 on :math:`D_r`; FT from the original on
:math:`D_r`; RBM / FBM reset the original with Chapter 4's masks, then fine-tune; the masked
updates move only the free coordinates under :math:`\\mathcal L(w; D_r) + \\mathcal L(w; (X_f, 0))`,
with weight decay on the free coordinates only (frozen weights do not move at all, as in the fixed
SalUn code). Draw ``i`` comes from child ``i`` of ``np.random.default_rng(seed)``, as everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.experiments import LINEAR_METHODS, MaskConfig
from rbmlib.linear_model import LinearInstance, sample_block_batch
from rbmlib.masks import fbm_keep_mask, rbm_keep_mask
from rbmlib.regularisation import (
    _dual_solve,
    _newton_from,
    check_lr,
    check_ridge,
    check_steps,
    default_lr,
    descend,
    single_threaded,
    spectrum,
)
from rbmlib.simulation import METRICS, SimulationConfig, draw_generators, evaluate, single_threaded_blas

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BudgetConfig", "regularised_weights", "simulate_regularised"]


@dataclass(frozen=True)
class BudgetConfig:
    """Weight decay and step budget of every stage.

    Parameters
    ----------
    ridge : float
        :math:`\\lambda \\ge 0` (PyTorch's ``weight_decay``).
    steps : int or str or None
        Steps per stage (``None``: run to convergence; with :math:`\\lambda = 0` that is the plain
        linear model of Chapters 1-4, computed here by the same code). An integer-valued string
        (from the command line) is converted; anything else that is not a non-negative integer is
        refused.
    lr : float or None
        Step size; only with ``steps``. ``None``: :math:`1/\\lambda_{\\max}(H)` over every design and draw.
    """

    ridge: float = 0.0
    steps: int | None = None
    lr: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ridge", check_ridge(self.ridge))
        object.__setattr__(self, "steps", None if self.steps is None else check_steps(self.steps))
        if self.lr is not None and self.steps is None:
            raise ValueError(
                f"lr = {self.lr} needs a step budget (--steps); without one every stage runs to convergence"
            )
        object.__setattr__(self, "lr", None if self.lr is None else float(self.lr))

    def to_dict(self) -> dict:
        """The CLI's settings entries."""
        return {"ridge": self.ridge, "steps": self.steps, "lr": self.lr}


def _masked_problem(inst: LinearInstance, w: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whitened design and target of the masked objective on the free coordinates, for a batch.

    :math:`Z = W[X_r; X_f]_{:,U}`, :math:`r = W[y_r - X_{r,K} w_K;\\, -X_{f,K} w_K]`,
    :math:`W = \\mathrm{diag}(n_r^{-1/2} I, n_f^{-1/2} I)`; frozen columns are zeroed (shape kept).
    """
    n_r, n_f = inst.X_r.shape[-2], inst.X_f.shape[-2]
    weights = np.concatenate([np.full(n_r, n_r**-0.5), np.full(n_f, n_f**-0.5)])
    X = np.concatenate([inst.X_r, inst.X_f], axis=-2)
    target = np.concatenate([inst.y_r, np.zeros(inst.y_f.shape)], axis=-1)
    frozen_part = np.einsum("bnd,bd->bn", X, np.where(free, 0.0, w))
    return weights[:, None] * X * free[:, None, :], weights * (target - frozen_part)


def _iterate(
    W: np.ndarray, Z: np.ndarray, r: np.ndarray, free: np.ndarray, *, lam: float, lr: float, steps: int
) -> np.ndarray:
    """``steps`` updates :math:`w \\leftarrow w - \\eta(2Z^\\top(Zw - r) + \\lambda\\, w \\odot u)`, batched over
    draws."""
    W = W.copy()
    for _ in range(steps):
        resid = np.einsum("bnd,bd->bn", Z, W) - r
        W -= lr * (2.0 * np.einsum("bnd,bn->bd", Z, resid) + lam * W * free)
    return W


def _closed(
    W0: np.ndarray, Z: np.ndarray, r: np.ndarray, free: np.ndarray, *, lam: float, lr: float, steps: int | None
) -> np.ndarray:
    """The closed form of the same updates, per draw on its free coordinates (:func:`descend`)."""
    out = W0.copy()
    for i in range(W0.shape[0]):
        u = free[i]
        spec = spectrum(Z[i][:, u], r[i], whitened=True)
        # lr plays no part in the limit (steps=None)
        out[i, u] = descend(spec, W0[i, u], steps, lam=lam, lr=0.0 if lr is None else lr)
    return out


def _stage_problems(inst: LinearInstance) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n, n_r = inst.X.shape[-2], inst.X_r.shape[-2]
    return {
        "D": (inst.X / math.sqrt(n), inst.y / math.sqrt(n)),
        "D_r": (inst.X_r / math.sqrt(n_r), inst.y_r / math.sqrt(n_r)),
    }


def _a_max(Z: np.ndarray) -> float:
    return float(np.max(2.0 * np.linalg.norm(Z, ord=2, axis=(-2, -1)) ** 2))


@single_threaded
def regularised_weights(
    inst: LinearInstance,
    budget: BudgetConfig,
    masks: MaskConfig = MaskConfig(),
    *,
    methods: Sequence[str] = LINEAR_METHODS,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float | None]:
    """Measured and closed-form weights ``(B, d)`` of ``methods`` for a batch of draws.

    Returns
    -------
    (measured, closed, lr)
        Two dicts of weights and the step size used (``None`` in the ridge limit).
    """
    lam, K = budget.ridge, budget.steps
    B, d = inst.X.shape[0], inst.X.shape[-1]
    zero, every = np.zeros((B, d)), np.ones((B, d), dtype=bool)
    keep = {
        "rbm": np.stack([rbm_keep_mask(_one(inst, i), ratio=masks.ratio, kind=masks.saliency) for i in range(B)]),
        "fbm": np.stack([fbm_keep_mask(_one(inst, i), ratio=masks.ratio, kind=masks.saliency) for i in range(B)]),
    }
    problems = _stage_problems(inst)
    lr = None
    if K is not None:
        designs = {"(2/n) X^T X": problems["D"][0], "(2/n_r) X_r^T X_r": problems["D_r"][0]}
        if any(m.endswith("_masked") for m in methods):
            designs.update(
                {
                    f"2 Z^T Z of the {name.upper()} masked update": _masked_problem(inst, zero, ~keep[name])[0]
                    for name in keep
                }
            )
        a_max = {name: _a_max(Z) for name, Z in designs.items()}
        lr = default_lr(max(a_max.values()), lam) if budget.lr is None else budget.lr
        for name, a in a_max.items():
            check_lr(lr, a, lam, hessian=name)

    def run(W0, Z, r, free):
        if K is None:  # the ridge limit, from the stage's own start
            measured = W0.copy()
            for i in range(B):
                u = free[i]
                measured[i, u] = _newton_from(W0[i, u], Z[i][:, u], r[i], lam)
        else:
            measured = _iterate(W0, Z, r, free, lam=lam, lr=lr, steps=K)
        return measured, _closed(W0, Z, r, free, lam=lam, lr=lr, steps=K)

    measured, closed = {}, {}
    measured["original"], closed["original"] = run(zero, *problems["D"], every)
    measured["golden"], closed["golden"] = run(zero, *problems["D_r"], every)
    # Later stages start from the *measured* original, so that the closed form is checked stage by stage.
    w_o = measured["original"]
    measured["ft"], closed["ft"] = run(w_o, *problems["D_r"], every)
    for name, mask in keep.items():
        measured[name], closed[name] = run(np.where(mask, w_o, 0.0), *problems["D_r"], every)
        if f"{name}_masked" in methods:
            Z, r = _masked_problem(inst, w_o, ~mask)
            measured[f"{name}_masked"], closed[f"{name}_masked"] = run(w_o, Z, r, ~mask)
    if K is None and lam > 0:
        # Proposition 7.1: every reset-then-FT limit is the regularised retrain, whatever its start.
        w_g = _dual_solve(*problems["D_r"], lam)
        closed.update(dict.fromkeys(("golden", "ft", "rbm", "fbm"), w_g))
    names = tuple(methods)
    return {m: measured[m] for m in names}, {m: closed[m] for m in names}, lr


def _one(inst: LinearInstance, i: int) -> LinearInstance:
    return LinearInstance(
        inst.X_f[i], inst.y_f[i], inst.X_r[i], inst.y_r[i], inst.w_star[i], inst.sizes, inst.noise, inst.leak
    )


def simulate_regularised(
    cfg: SimulationConfig,
    budget: BudgetConfig,
    masks: MaskConfig = MaskConfig(),
    *,
    methods: Sequence[str] = LINEAR_METHODS,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]], float | None]:
    """Per-draw metrics ``samples[method][metric]`` (shape ``(draws,)``), measured and closed form, and the lr.

    All draws are fitted in one batch, so that one step size (checked against every design of
    every draw) serves them all; they are the draws of :func:`rbmlib.simulation.iter_batches`.
    """
    unknown = set(methods) - set(LINEAR_METHODS)
    if unknown:
        raise ValueError(f"unknown linear methods {sorted(unknown)}; choose from {LINEAR_METHODS}")
    with single_threaded_blas():
        inst = sample_block_batch(
            cfg.sizes, draw_generators(cfg), noise=cfg.noise, teacher_scales=cfg.teacher_scales, leak=cfg.leak
        ).to_instance()
        measured, closed, lr = regularised_weights(inst, budget, masks, methods=methods)
        out = evaluate(measured, inst), evaluate(closed, inst)
    return (
        {m: {k: out[0][m][k] for k in METRICS} for m in methods},
        {m: {k: out[1][m][k] for k in METRICS} for m in methods},
        lr,
    )


def regularised_rows(
    cfg: SimulationConfig,
    masks: MaskConfig,
    *,
    ridge: float | None,
    steps: object,
    lr: float | None,
    theory: bool,
) -> tuple[pd.DataFrame, dict]:
    """The command line's summary under ``--ridge`` / ``--steps`` / ``--lr``, and the settings they add.

    Returns
    -------
    (summary, settings)
        :func:`rbmlib.simulation.summarise` of the measured losses; with ``theory=True`` it also has
        ``<metric>_theory``, the mean over the same draws of the chapter's closed form — under
        ridge or a budget there is no closed-form expectation over designs, so the column checks
        the formula against the optimiser instead. ``settings`` holds the budget and the step size.
    """
    from rbmlib.simulation import summarise

    budget = BudgetConfig(0.0 if ridge is None else ridge, None if steps is None else check_steps(steps), lr)
    measured, closed, used_lr = simulate_regularised(cfg, budget, masks)
    summary = summarise(measured)
    if theory:
        for m in METRICS:
            summary[f"{m}_theory"] = [float(np.mean(closed[method][m])) for method in summary["method"]]
    return summary, {**budget.to_dict(), "lr": used_lr}
