r"""Unlearning methods with one signature (Chapter 6).

Every method is ``method(model, retain, forget, *, cfg, generator) -> model`` (the
:class:`UnlearningMethod` protocol): it returns a new model and never modifies ``model``. All of
them run on the one engine :func:`rbmlib.deep.training.masked_sgd`; they differ only in the batch
stream, the penalty and the mask. Each method is registered once, in :data:`REGISTRY`, with its
configuration type; every configuration has the optimiser and schedule as one top-level ``sgd``
field, so ``dataclasses.replace(cfg, sgd=...)`` changes it for any method.

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
random       control: RL restricted to a uniformly random mask of the same ratio
rbm          RL with the Fisher-retain-salient weights frozen (the pre-registered primary RBM)
rbm_grad     variant: as ``rbm`` with SalUn's gradient statistic on $D_r$ instead of the Fisher
rbm_layer    variant: as ``rbm`` with one ranking per parameter tensor instead of a global one
rbm_reset    variant: re-initialise the non-retain-salient weights, then fine-tune on $D_r$
===========  =================================================================================

SalUn, the random control and the three RL-based RBMs share :class:`MaskedRLConfig` and differ
only in the mask function they call (:mod:`rbmlib.deep.saliency`); the saliency pass is part of
the method and of its measured run time. ``rbm_reset`` is the linear chapters' RBM
(reset-then-FT, Chapter 4) and takes a :class:`ResetFTConfig`. Every masked method reads its
``ratio`` as the fraction of weights updated (reset, for ``rbm_reset``), so ratio 1 turns every
RL-based one into RL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from rbmlib.deep.batches import TensorSet, iterate_batches
from rbmlib.deep.models import reinitialized
from rbmlib.deep.saliency import Mask, forget_saliency_mask, random_mask, retain_saliency_mask
from rbmlib.deep.training import Batch, SGDConfig, fit, masked_sgd
from rbmlib.validators import finite_nonnegative, fraction

__all__ = [
    "MASKED_METHODS",
    "METHODS",
    "RBM_VARIANTS",
    "REGISTRY",
    "FinetuneConfig",
    "GradientAscentConfig",
    "L1Config",
    "MaskedConfig",
    "MaskedRLConfig",
    "MethodConfig",
    "MethodSpec",
    "RLConfig",
    "ResetFTConfig",
    "RetrainConfig",
    "Schedule",
    "UnlearningMethod",
    "child_generator",
    "finetune",
    "gradient_ascent",
    "l1_sparse",
    "original",
    "random_label",
    "random_mask_rl",
    "rbm",
    "rbm_grad",
    "rbm_layer",
    "rbm_reset",
    "retrain",
    "salun",
]

#: RL's pass order (:class:`RLConfig`, :class:`MaskedRLConfig`).
Schedule = Literal["sequential", "union"]


def _check_schedule(schedule: str) -> None:
    if schedule not in ("sequential", "union"):
        raise ValueError(f"RL schedule must be 'sequential' or 'union', got {schedule!r}")


@dataclass(frozen=True)
class RetrainConfig:
    """Retrain from a fresh initialisation on $D_r$ (the gold standard).

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule; the field retrains with the original training's recipe.
    """

    sgd: SGDConfig


@dataclass(frozen=True)
class FinetuneConfig:
    """FT: cross-entropy on $D_r$ from the original model.

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule (SalUn's CIFAR-10 default: 10 epochs, lr 0.01).
    """

    sgd: SGDConfig


@dataclass(frozen=True)
class GradientAscentConfig:
    """GA: minimise $-\\mathrm{CE}$ on $D_f$.

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule (SalUn's range: 5 epochs, lr 1e-4 to 1e-3).
    """

    sgd: SGDConfig


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
    schedule: Schedule = "sequential"

    def __post_init__(self) -> None:
        _check_schedule(self.schedule)


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
        finite_nonnegative(self.alpha, "l1 alpha")


@dataclass(frozen=True)
class MaskedRLConfig:
    """RL with a saliency mask (SalUn, the random control and the RL-based RBMs).

    Attributes
    ----------
    sgd : SGDConfig
        Optimiser and schedule of the RL objective.
    schedule : {"sequential", "union"}
        RL's pass order (:class:`RLConfig`).
    ratio : float
        Fraction of weights updated, in ``(0, 1]`` (SalUn's default: 0.5); see
        :mod:`rbmlib.deep.saliency` for the exact semantics of each mask.
    leaky : bool
        Reproduce the published SalUn behaviour (gradient masking only; weight decay and momentum
        still move frozen weights). Default ``False``: frozen weights are bit-identical.
    saliency_batch_size : int
        Mini-batch size of the saliency pass (SalUn's default batch size, 256).
    """

    sgd: SGDConfig
    schedule: Schedule = "sequential"
    ratio: float = 0.5
    leaky: bool = False
    saliency_batch_size: int = 256

    def __post_init__(self) -> None:
        _check_schedule(self.schedule)
        fraction(self.ratio, "mask ratio")


@dataclass(frozen=True)
class ResetFTConfig:
    """Reset-then-fine-tune RBM (the linear chapters' RBM, Chapter 4).

    Attributes
    ----------
    sgd : SGDConfig
        Fine-tuning on $D_r$ after the reset (every weight trainable).
    ratio : float
        Fraction of weights re-initialised (the non-retain-salient ones), in ``(0, 1]``: the same
        semantics as the masked methods' fraction updated. Ratio 1 resets every weight, i.e.
        retraining with the fine-tuning budget.
    saliency_batch_size : int
        Mini-batch size of the Fisher pass.
    """

    sgd: SGDConfig
    ratio: float = 0.5
    saliency_batch_size: int = 256

    def __post_init__(self) -> None:
        fraction(self.ratio, "mask ratio")


#: The configuration of any method but ``original`` (which takes none); every one has ``sgd``.
MethodConfig = (
    RetrainConfig | FinetuneConfig | GradientAscentConfig | RLConfig | L1Config | MaskedRLConfig | ResetFTConfig
)
#: The configurations with a mask ``ratio``.
MaskedConfig = MaskedRLConfig | ResetFTConfig


def child_generator(generator: torch.Generator, purpose: int) -> torch.Generator:
    """A CPU generator derived from ``generator``'s seed without consuming its state.

    The random mask and the reset draw from such a child (``purpose`` 1 and 2), so the batch order
    that ``generator`` then produces is the same as SalUn's or FT's in the same run: paired
    comparisons differ by the mask only. Seed: :class:`numpy.random.SeedSequence` of
    ``(generator.initial_seed(), purpose)``.
    """
    state = np.random.SeedSequence([generator.initial_seed(), purpose]).generate_state(1, np.uint64)
    return torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))


def _ce_stream(
    data: TensorSet, cfg: SGDConfig, generator: torch.Generator, sign: float
) -> Callable[[int], Iterable[Batch]]:
    def stream(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(data, cfg.batch_size, generator=generator, augment=cfg.augment):
            yield x, y, sign

    return stream


def _rl_stream(
    retain: TensorSet, forget: TensorSet, sgd: SGDConfig, schedule: Schedule, generator: torch.Generator
) -> Callable[[int], Iterable[Batch]]:
    def random_labels(y: torch.Tensor) -> torch.Tensor:
        return torch.randint(0, retain.num_classes, y.shape, generator=generator).to(y.device)

    def sequential(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(forget, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, random_labels(y), 1.0
        for x, y in iterate_batches(retain, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, y, 1.0

    if schedule == "sequential":
        return sequential
    # Union: label -1 marks a forgetting example, relabelled at random in every batch.
    union = TensorSet(
        torch.cat([forget.x, retain.x]), torch.cat([torch.full_like(forget.y, -1), retain.y]), retain.num_classes
    )

    def mixed(epoch: int) -> Iterable[Batch]:
        for x, y in iterate_batches(union, sgd.batch_size, generator=generator, augment=sgd.augment):
            yield x, torch.where(y < 0, random_labels(y), y), 1.0

    return mixed


def original(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: None = None, generator: torch.Generator
) -> nn.Module:
    """No unlearning: a copy of ``model`` (the "before" reference)."""
    return copy.deepcopy(model).eval()


def retrain(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: RetrainConfig, generator: torch.Generator
) -> nn.Module:
    """Retrain from a fresh initialisation on $D_r$; ``model`` only gives the architecture."""
    return fit(reinitialized(model, generator=generator), retain, cfg=cfg.sgd, generator=generator)


def finetune(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: FinetuneConfig, generator: torch.Generator
) -> nn.Module:
    """FT: minimise cross-entropy on $D_r$ starting from ``model``."""
    return fit(model, retain, cfg=cfg.sgd, generator=generator)


def gradient_ascent(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: GradientAscentConfig, generator: torch.Generator
) -> nn.Module:
    r"""GA: minimise $-\mathrm{CE}$ on $D_f$ (``retain`` is unused)."""
    return masked_sgd(model, _ce_stream(forget, cfg.sgd, generator, -1.0), cfg=cfg.sgd)


def random_label(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: RLConfig, generator: torch.Generator
) -> nn.Module:
    """RL: CE on $D_f$ with random labels plus CE on $D_r$, every weight trainable."""
    return masked_sgd(model, _rl_stream(retain, forget, cfg.sgd, cfg.schedule, generator), cfg=cfg.sgd)


def l1_sparse(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: L1Config, generator: torch.Generator
) -> nn.Module:
    r"""l1-sparse: FT on $D_r$ with penalty $\alpha(1 - e/E)\,\lVert\theta\rVert_1$ in epoch $e$."""
    epochs = cfg.sgd.epochs

    def penalty(net: nn.Module, epoch: int) -> torch.Tensor:
        l1 = sum(p.abs().sum() for p in net.parameters())
        return cfg.alpha * (1.0 - epoch / epochs) * l1

    return masked_sgd(model, _ce_stream(retain, cfg.sgd, generator, 1.0), cfg=cfg.sgd, penalty=penalty)


def _masked_rl(
    model: nn.Module,
    retain: TensorSet,
    forget: TensorSet,
    cfg: MaskedRLConfig,
    generator: torch.Generator,
    mask: Mask,
) -> nn.Module:
    stream = _rl_stream(retain, forget, cfg.sgd, cfg.schedule, generator)
    return masked_sgd(model, stream, cfg=cfg.sgd, mask=mask, leaky=cfg.leaky)


def salun(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig, generator: torch.Generator
) -> nn.Module:
    """SalUn: RL updating only the ``ratio`` fraction of weights most salient on $D_f$."""
    mask = forget_saliency_mask(model, forget, ratio=cfg.ratio, batch_size=cfg.saliency_batch_size)
    return _masked_rl(model, retain, forget, cfg, generator, mask)


def _rbm_rl(
    model: nn.Module,
    retain: TensorSet,
    forget: TensorSet,
    cfg: MaskedRLConfig,
    generator: torch.Generator,
    *,
    statistic: Literal["fisher", "grad"],
    ranking: Literal["global", "layer"],
) -> nn.Module:
    mask = retain_saliency_mask(
        model, retain, ratio=cfg.ratio, batch_size=cfg.saliency_batch_size, statistic=statistic, ranking=ranking
    )
    return _masked_rl(model, retain, forget, cfg, generator, mask)


def rbm(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig, generator: torch.Generator
) -> nn.Module:
    """RBM, pre-registered primary: RL with the top ``1 - ratio`` of weights by the Fisher
    diagonal on $D_r$ (global ranking) frozen."""
    return _rbm_rl(model, retain, forget, cfg, generator, statistic="fisher", ranking="global")


def rbm_grad(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig, generator: torch.Generator
) -> nn.Module:
    """RBM variant: as :func:`rbm` with SalUn's gradient statistic $g(D_r)$ instead of the Fisher."""
    return _rbm_rl(model, retain, forget, cfg, generator, statistic="grad", ranking="global")


def rbm_layer(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig, generator: torch.Generator
) -> nn.Module:
    """RBM variant: as :func:`rbm` with the Fisher ranked within each parameter tensor."""
    return _rbm_rl(model, retain, forget, cfg, generator, statistic="fisher", ranking="layer")


def random_mask_rl(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: MaskedRLConfig, generator: torch.Generator
) -> nn.Module:
    """Control: RL updating a uniformly random ``ratio`` fraction of the weights.

    The mask is drawn from :func:`child_generator` ``(generator, 1)``, so it is a function of the
    run seed and the batch order is SalUn's.
    """
    mask = random_mask(model, ratio=cfg.ratio, generator=child_generator(generator, 1))
    return _masked_rl(model, retain, forget, cfg, generator, mask)


def rbm_reset(
    model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: ResetFTConfig, generator: torch.Generator
) -> nn.Module:
    r"""RBM variant, reset-then-FT: re-initialise the weights that are not retain-salient, then
    fine-tune every weight on $D_r$.

    Notes
    -----
    $\theta^{(0)} = (1 - m)\odot\theta_o + m \odot \theta_{\text{init}}$ with
    $m = 1 - \mathrm{top}_{N-k} F(D_r)$ and $\theta_{\text{init}}$ a fresh initialisation drawn
    from :func:`child_generator` ``(generator, 2)``; then FT on $D_r$. The deep counterpart of
    $\mathrm{fit}(m_r \odot w_o, X_r, y_r)$ of Chapter 4, with a fresh draw instead of zeros (a
    zeroed convolution passes no signal). BatchNorm running statistics are the original's.
    """
    mask = retain_saliency_mask(model, retain, ratio=cfg.ratio, batch_size=cfg.saliency_batch_size)
    fresh = dict(reinitialized(model, generator=child_generator(generator, 2)).named_parameters())
    start = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in start.named_parameters():
            p.copy_(torch.where(mask[name], fresh[name], p))
    return fit(start, retain, cfg=cfg.sgd, generator=generator)


C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class UnlearningMethod(Protocol[C_contra]):
    """The one signature of every method: ``(model, retain, forget, *, cfg, generator) -> model``.

    ``model`` is the original (only its architecture, for Retrain) and is never modified;
    ``retain`` and ``forget`` are $D_r$ and $D_f$; ``cfg`` is the method's own configuration
    type; every random draw comes from ``generator``. The returned network is a new one, in
    evaluation mode. No display arguments: progress is shown by the executors, per cell.
    """

    def __call__(
        self, model: nn.Module, retain: TensorSet, forget: TensorSet, *, cfg: C_contra, generator: torch.Generator
    ) -> nn.Module: ...


@dataclass(frozen=True)
class MethodSpec(Generic[C]):
    """One entry of :data:`REGISTRY`.

    Attributes
    ----------
    run : UnlearningMethod
        The method.
    config : type, optional
        The type of its ``cfg`` (``None`` for ``original``, which takes none).
    rbm_variant : bool
        One of the RBM variants reported beside the pre-registered primary ``rbm``.
    """

    run: UnlearningMethod[C]
    config: type[C] | None
    rbm_variant: bool = False

    @property
    def masked(self) -> bool:
        """Whether the method takes a mask ratio (its configuration is a :data:`MaskedConfig`)."""
        return self.config is not None and issubclass(self.config, (MaskedRLConfig, ResetFTConfig))


def _spec(run: UnlearningMethod[C], config: type[C] | None, *, rbm_variant: bool = False) -> MethodSpec[C]:
    # A typed constructor: mypy checks that ``run`` takes ``config`` as its ``cfg``.
    return MethodSpec(run, config, rbm_variant)


#: Every method, registered once: name -> function, configuration type and role, in the order
#: results are reported. The other method lists are derived from it (:data:`METHODS`,
#: :data:`MASKED_METHODS`, :data:`RBM_VARIANTS`, :data:`rbmlib.deep.tune.TUNABLE`); display
#: names, colours and markers stay in :data:`rbmlib.presentation.SERIES`.
REGISTRY: dict[str, MethodSpec[Any]] = {
    "original": _spec(original, None),
    "retrain": _spec(retrain, RetrainConfig),
    "ft": _spec(finetune, FinetuneConfig),
    "ga": _spec(gradient_ascent, GradientAscentConfig),
    "rl": _spec(random_label, RLConfig),
    "l1": _spec(l1_sparse, L1Config),
    "salun": _spec(salun, MaskedRLConfig),
    "random": _spec(random_mask_rl, MaskedRLConfig),
    "rbm": _spec(rbm, MaskedRLConfig),
    "rbm_grad": _spec(rbm_grad, MaskedRLConfig, rbm_variant=True),
    "rbm_layer": _spec(rbm_layer, MaskedRLConfig, rbm_variant=True),
    "rbm_reset": _spec(rbm_reset, ResetFTConfig, rbm_variant=True),
}

#: Method name -> function (:data:`REGISTRY`'s ``run``), in reporting order: what the runner calls.
METHODS: dict[str, UnlearningMethod[Any]] = {name: spec.run for name, spec in REGISTRY.items()}
#: Methods that take a mask ratio (the fraction of weights updated, or reset for ``rbm_reset``).
MASKED_METHODS: tuple[str, ...] = tuple(name for name, spec in REGISTRY.items() if spec.masked)
#: The RBM variants reported beside the pre-registered primary ``rbm``.
RBM_VARIANTS: tuple[str, ...] = tuple(name for name, spec in REGISTRY.items() if spec.rbm_variant)
