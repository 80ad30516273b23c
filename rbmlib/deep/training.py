r"""One masked-SGD engine for original training, retraining and every unlearning method (Chapter 6).

A method is a stream of mini-batches ``(x, y, s)`` and an optional penalty; the engine minimises

.. math::

    \ell(\theta) = s \cdot \mathrm{CE}(f_\theta(x), y) + \Omega_e(\theta)

by SGD with momentum $\mu$ and weight decay $\lambda$, touching only the weights a mask $m$ lets
move. With the hard mask (the default), the update of weight $j$ at step $t$ is

.. math::

    d_j = m_j\,(g_j + \lambda \theta_j),\qquad b_j \leftarrow \mu b_j + d_j,\qquad
    \theta_j \leftarrow \theta_j - \eta\, b_j ,

so a frozen weight ($m_j = 0$) has $d_j = 0$ and a momentum buffer that stays exactly zero: it
does not move by a single bit, however many steps run. ``leaky=True`` reproduces the published
SalUn behaviour instead: only the gradient is masked, $d_j = m_j g_j + \lambda\theta_j$, so weight
decay (and the momentum it feeds) still shrinks "frozen" weights.

BatchNorm policy: BatchNorm weights and biases are parameters and are masked like any other;
running statistics are buffers, never masked. With ``bn_stats="update"`` (SalUn's behaviour, the
default) BatchNorm layers are in training mode, normalise with batch statistics and update their
running averages; with ``"freeze"`` they stay in evaluation mode, so running statistics are
bit-identical after training too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from rbmlib.deep.batches import Augment, TensorSet, iterate_batches

__all__ = ["Batch", "SGDConfig", "fit", "lr_at_epoch", "masked_sgd"]

#: ``(x, y, s)``: float images ``(B, C, H, W)``, integer targets ``(B,)`` and the sign ``s`` of
#: the cross-entropy (``-1.0`` for gradient ascent).
Batch = tuple[torch.Tensor, torch.Tensor, float]


@dataclass(frozen=True)
class SGDConfig:
    """Optimiser and schedule of one training stage.

    Attributes
    ----------
    epochs : int
        Passes over the stage's data.
    lr : float
        Initial learning rate $\\eta$.
    batch_size : int
        Examples per step (SalUn's default: 256).
    momentum : float
        Heavy-ball momentum $\\mu$ (SalUn's default: 0.9).
    weight_decay : float
        Coupled L2 weight decay $\\lambda$ (SalUn's default: 5e-4).
    milestones : tuple of int
        Epochs at which the learning rate is multiplied by ``gamma`` (SalUn's CIFAR-10 original
        training: ``(91, 136)`` of 182); empty for a constant rate.
    gamma : float
        Learning-rate decay factor at each milestone (SalUn's default: 0.1).
    augment : {"none", "crop", "crop_flip"}
        Training-time augmentation (CIFAR: crop + flip, as SalUn's loaders, which also apply it
        during unlearning; digits: none, since a flipped digit is another digit).
    bn_stats : {"update", "freeze"}
        BatchNorm running statistics during this stage (module docstring).
    amp : bool
        Run forward and backward under ``bfloat16`` autocast (an explicit speed option for GPUs;
        off by default so results do not depend on it).
    """

    epochs: int
    lr: float
    batch_size: int = 256
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    augment: Augment = "none"
    bn_stats: Literal["update", "freeze"] = "update"
    amp: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1:
            raise ValueError(f"need epochs >= 0 and batch_size >= 1, got {self.epochs}, {self.batch_size}")
        if self.lr < 0 or self.momentum < 0 or self.weight_decay < 0:
            raise ValueError(
                f"lr, momentum, weight_decay must be >= 0, got {self.lr}, {self.momentum}, {self.weight_decay}"
            )
        if self.bn_stats not in ("update", "freeze"):
            raise ValueError(f"bn_stats must be 'update' or 'freeze', got {self.bn_stats!r}")


def lr_at_epoch(cfg: SGDConfig, epoch: int) -> float:
    """Step schedule: $\\eta \\gamma^{k}$, $k$ = number of milestones $\\le$ ``epoch``."""
    return cfg.lr * cfg.gamma ** sum(m <= epoch for m in cfg.milestones)


def _set_train_mode(net: nn.Module, bn_stats: str) -> None:
    net.train()
    if bn_stats == "freeze":
        for module in net.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                module.eval()


@torch.no_grad()
def _masked_direction(
    named: list[tuple[str, nn.Parameter]],
    mask: Mapping[str, torch.Tensor] | None,
    weight_decay: float,
    leaky: bool,
) -> None:
    """Turn each ``p.grad`` into the update direction ``d`` of the module docstring, in place."""
    for name, p in named:
        if p.grad is None:
            continue
        m = None if mask is None else mask[name]
        if m is not None:
            p.grad.copy_(torch.where(m, p.grad, torch.zeros_like(p.grad)))
        if weight_decay:
            decay = p if (m is None or leaky) else torch.where(m, p, torch.zeros_like(p))
            p.grad.add_(decay, alpha=weight_decay)


def masked_sgd(
    model: nn.Module,
    stream: Callable[[int], Iterable[Batch]],
    *,
    cfg: SGDConfig,
    mask: Mapping[str, torch.Tensor] | None = None,
    leaky: bool = False,
    penalty: Callable[[nn.Module, int], torch.Tensor] | None = None,
) -> nn.Module:
    """Train a copy of ``model`` on ``stream`` with masked SGD.

    Parameters
    ----------
    model : torch.nn.Module
        Starting point; not modified.
    stream : callable
        ``stream(epoch)`` yields the :data:`Batch` es of one epoch.
    cfg : SGDConfig
        Optimiser, schedule, augmentation and BatchNorm policy.
    mask : mapping of str to bool tensor, optional
        ``True`` where a weight may move, one entry per named parameter (see
        :mod:`rbmlib.deep.saliency`); ``None`` trains every weight.
    leaky : bool
        Mask the gradient only (published SalUn behaviour) instead of the whole update.
    penalty : callable, optional
        ``penalty(model, epoch)`` added to every step's loss (the $\\ell_1$ term of l1-sparse).

    Returns
    -------
    torch.nn.Module
        The trained copy, in evaluation mode.

    Notes
    -----
    Chapter 6, "One engine": the update rule and the hard-mask guarantee are in the module
    docstring.
    """
    net = copy.deepcopy(model)
    named = list(net.named_parameters())
    if mask is not None:
        missing = {n for n, _ in named} ^ set(mask)
        if missing:
            raise ValueError(f"mask and model disagree on parameters: {sorted(missing)[:5]}")
        for name, p in named:
            if mask[name].shape != p.shape or mask[name].dtype != torch.bool:
                raise ValueError(f"mask[{name!r}] must be a bool tensor of shape {tuple(p.shape)}")
    # Weight decay is applied by hand in _masked_direction, so that it can be masked.
    opt = torch.optim.SGD([p for _, p in named], lr=cfg.lr, momentum=cfg.momentum, weight_decay=0.0)
    device_type = named[0][1].device.type
    _set_train_mode(net, cfg.bn_stats)
    for epoch in range(cfg.epochs):
        for group in opt.param_groups:
            group["lr"] = lr_at_epoch(cfg, epoch)
        for x, y, sign in stream(epoch):
            with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=cfg.amp):
                loss = sign * F.cross_entropy(net(x), y)
            if penalty is not None:
                loss = loss + penalty(net, epoch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            _masked_direction(named, mask, cfg.weight_decay, leaky)
            opt.step()
    return net.eval()


def fit(model: nn.Module, data: TensorSet, *, cfg: SGDConfig, generator: torch.Generator) -> nn.Module:
    """Minimise cross-entropy on ``data`` from ``model`` (original training, Retrain and FT)."""

    def stream(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(data, cfg.batch_size, generator=generator, augment=cfg.augment):
            yield x, y, 1.0

    return masked_sgd(model, stream, cfg=cfg)
