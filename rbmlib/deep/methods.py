r"""Unlearning methods with one signature (Chapter 6).

Every method is ``method(model, retain, forget, *, cfg, generator, desc=None) -> model``: it
returns a new model and never modifies ``model``. All of them run on the one engine
:func:`rbmlib.deep.training.masked_sgd`; they differ only in the batch stream, the penalty and the
mask.

===========  =================================================================================
name         what it does
===========  =================================================================================
original     no unlearning: a copy of the model (the reference point "before")
retrain      fresh initialisation, cross-entropy on $D_r$ (the gold standard)
ft           fine-tune on $D_r$ with cross-entropy
ga           gradient ascent: minimise $-\mathrm{CE}$ on $D_f$
rl           random labelling: CE on $D_f$ with uniformly random labels, plus CE on $D_r$
l1           FT with $\mathrm{CE} + \alpha_e\lVert\theta\rVert_1$, $\alpha_e = \alpha(1 - e/E)$
salun        RL restricted to SalUn's forget-saliency mask
rbm          RL restricted to RBM's retain-based mask (this book's reconstruction)
===========  =================================================================================

SalUn and RBM share :class:`MaskedRLConfig` and differ only in the mask function they call
(:func:`~rbmlib.deep.saliency.forget_saliency_mask` vs
:func:`~rbmlib.deep.saliency.retain_saliency_mask`); the saliency pass is part of the method and
of its measured run time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from rbmlib.deep.batches import TensorSet, iterate_batches
from rbmlib.deep.models import reinitialized
from rbmlib.deep.saliency import Mask, forget_saliency_mask, retain_saliency_mask
from rbmlib.deep.training import Batch, SGDConfig, fit, masked_sgd

__all__ = [
    "MASKED_METHODS",
    "METHODS",
    "L1Config",
    "MaskedRLConfig",
    "RLConfig",
    "finetune",
    "gradient_ascent",
    "l1_sparse",
    "original",
    "random_label",
    "rbm",
    "retrain",
    "salun",
]


@dataclass(frozen=True)
class RLConfig:
    """Random labelling.

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule (SalUn's CIFAR-10 default: 10 epochs, lr 0.013).
    schedule : {"sequential", "union"}
        ``"sequential"``: each epoch is a pass over $D_f$ (random labels) then a pass over $D_r$
        (SalUn's choice on CIFAR-10 and SVHN); ``"union"``: one shuffled pass over
        $D_f \\cup D_r$ (its choice on CIFAR-100 and TinyImageNet). Random labels are drawn
        uniformly over all classes, afresh for every batch.
    """

    sgd: SGDConfig
    schedule: Literal["sequential", "union"] = "sequential"

    def __post_init__(self) -> None:
        if self.schedule not in ("sequential", "union"):
            raise ValueError(f"RL schedule must be 'sequential' or 'union', got {self.schedule!r}")


@dataclass(frozen=True)
class L1Config:
    """l1-sparse unlearning.

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule of the fine-tuning on $D_r$.
    alpha : float
        Initial $\\ell_1$ weight $\\alpha$; epoch $e$ of $E$ uses $\\alpha(1 - e/E)$.
    """

    sgd: SGDConfig
    alpha: float

    def __post_init__(self) -> None:
        if self.alpha < 0:
            raise ValueError(f"l1 alpha must be >= 0, got {self.alpha}")


@dataclass(frozen=True)
class MaskedRLConfig:
    """RL with a saliency mask (SalUn and RBM).

    Attributes
    ----------
    rl : RLConfig
        The unlearning objective and its optimiser.
    ratio : float
        Fraction of weights updated, in ``(0, 1]`` (SalUn's default: 0.5); see
        :mod:`rbmlib.deep.saliency` for the exact semantics of each mask.
    leaky : bool
        Reproduce the published SalUn behaviour (gradient masking only; weight decay and momentum
        still move frozen weights). Default ``False``: frozen weights are bit-identical.
    saliency_batch_size : int
        Mini-batch size of the saliency pass (SalUn's default batch size, 256).
    """

    rl: RLConfig
    ratio: float = 0.5
    leaky: bool = False
    saliency_batch_size: int = 256

    def __post_init__(self) -> None:
        if not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"mask ratio must be in (0, 1], got {self.ratio}")


def _ce_stream(data: TensorSet, cfg: SGDConfig, generator: torch.Generator, sign: float):
    def stream(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(data, cfg.batch_size, generator=generator, augment=cfg.augment):
            yield x, y, sign

    return stream


def _rl_stream(retain: TensorSet, forget: TensorSet, cfg: RLConfig, generator: torch.Generator):
    sgd = cfg.sgd

    def random_labels(y: torch.Tensor) -> torch.Tensor:
        return torch.randint(0, retain.num_classes, y.shape, generator=generator).to(y.device)

    def sequential(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(forget, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, random_labels(y), 1.0
        for x, y in iterate_batches(retain, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, y, 1.0

    if cfg.schedule == "sequential":
        return sequential
    # Union: label -1 marks a forgetting example, relabelled at random in every batch.
    union = TensorSet(torch.cat([forget.x, retain.x]),
                      torch.cat([torch.full_like(forget.y, -1), retain.y]), retain.num_classes)

    def mixed(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(union, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, torch.where(y < 0, random_labels(y), y), 1.0

    return mixed


def original(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: None = None,
             generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """No unlearning: a copy of ``model`` (the "before" reference)."""
    return copy.deepcopy(model).eval()


def retrain(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: SGDConfig,
            generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """Retrain from a fresh initialisation on $D_r$; ``model`` only gives the architecture."""
    return fit(reinitialized(model, generator=generator), retain, cfg=cfg, generator=generator, desc=desc)


def finetune(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: SGDConfig,
             generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """FT: minimise cross-entropy on $D_r$ starting from ``model``."""
    return fit(model, retain, cfg=cfg, generator=generator, desc=desc)


def gradient_ascent(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: SGDConfig,
                    generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """GA: minimise $-\\mathrm{CE}$ on $D_f$ (``retain`` is unused)."""
    return masked_sgd(model, _ce_stream(forget, cfg, generator, -1.0), cfg=cfg, desc=desc)


def random_label(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: RLConfig,
                 generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """RL: CE on $D_f$ with random labels plus CE on $D_r$, every weight trainable."""
    return masked_sgd(model, _rl_stream(retain, forget, cfg, generator), cfg=cfg.sgd, desc=desc)


def l1_sparse(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: L1Config,
              generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """l1-sparse: FT on $D_r$ with penalty $\\alpha(1 - e/E)\\,\\lVert\\theta\\rVert_1$ in epoch $e$."""
    epochs = cfg.sgd.epochs

    def penalty(net: nn.Module, epoch: int) -> torch.Tensor:
        l1 = sum(p.abs().sum() for p in net.parameters())
        return cfg.alpha * (1.0 - epoch / epochs) * l1

    return masked_sgd(model, _ce_stream(retain, cfg.sgd, generator, 1.0), cfg=cfg.sgd,
                      penalty=penalty, desc=desc)


def _masked_rl(model: nn.Module, retain: TensorSet, forget: TensorSet, cfg: MaskedRLConfig,
               generator: torch.Generator, mask: Mask, desc: str | None) -> nn.Module:
    return masked_sgd(model, _rl_stream(retain, forget, cfg.rl, generator), cfg=cfg.rl.sgd,
                      mask=mask, leaky=cfg.leaky, desc=desc)


def salun(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig,
          generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """SalUn: RL updating only the ``ratio`` fraction of weights most salient on $D_f$."""
    mask = forget_saliency_mask(model, forget, ratio=cfg.ratio, batch_size=cfg.saliency_batch_size)
    return _masked_rl(model, retain, forget, cfg, generator, mask, desc)


def rbm(model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig,
        generator: torch.Generator, desc: str | None = None) -> nn.Module:
    """RBM: RL with the retain-salient weights (top ``1 - ratio`` on $D_r$) frozen."""
    mask = retain_saliency_mask(model, retain, ratio=cfg.ratio, batch_size=cfg.saliency_batch_size)
    return _masked_rl(model, retain, forget, cfg, generator, mask, desc)


#: Method name -> function, in the order results are reported.
METHODS: dict[str, Callable[..., nn.Module]] = {
    "original": original,
    "retrain": retrain,
    "ft": finetune,
    "ga": gradient_ascent,
    "rl": random_label,
    "l1": l1_sparse,
    "salun": salun,
    "rbm": rbm,
}

#: Methods that take a mask ratio.
MASKED_METHODS: tuple[str, ...] = ("salun", "rbm")
