"""Default hyper-parameters per dataset: SalUn's for the CIFAR scale, tuned ones for CPU scale.

A :class:`Recipe` gathers the model and every stage's configuration; variants are made with
:func:`dataclasses.replace` (or :func:`with_mask_ratio`, :func:`with_amp`).

* ``cifar10``, ``cifar100``, ``svhn``, ``tinyimagenet`` -- SalUn's CIFAR-10 + ResNet-18 defaults
  (``unlearning-reference.md`` in the project's shared notes; SalUn's ``arg_parser.py`` and run
  scripts): original training and Retrain 182 epochs at lr 0.1, x0.1 at epochs 91 and 136; FT and
  l1-sparse 10 epochs at 0.01; GA 5 epochs at 1e-4 (the low end of its published 1e-4..1e-3
  range); RL/SalUn 10 epochs at 0.013 with mask ratio 0.5; batch 256, SGD momentum 0.9, weight
  decay 5e-4. Augmentation follows SalUn's loaders: crop + flip on CIFAR and TinyImageNet, none on
  SVHN (house numbers are digits). RL is sequential (D_f pass, then D_r pass) on CIFAR-10/SVHN and
  a shuffled union on CIFAR-100/TinyImageNet, as in SalUn's code.
* ``mnist5k`` and ``digits`` -- CPU scale, width-12 :class:`~rbmlib.deep.models.SmallCNN`.
  Learning rates chosen as the field recommends: per method, on the random-forgetting scenario,
  the smallest Avg. Gap, with ``benchmarks/bench_deep_sweep.py`` on tuning seeds (10, 11) that
  are disjoint from the reported seeds (0, 1, 2); the grid and the result are in
  ``_cpu_scale``'s comments. SalUn and RBM are tuned separately, as every method is (the sweep
  picked a ten times larger step for RBM than for SalUn). Epoch counts are sized so that
  the whole 7-method x 2-scenario x 3-seed grid of mnist5k runs in minutes on two CPU cores.
  ``digits`` reuses mnist5k's recipe untuned (it exists for tests).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from rbmlib.deep.methods import MASKED_METHODS, METHODS, L1Config, MaskedRLConfig, RLConfig
from rbmlib.deep.models import ModelSpec
from rbmlib.deep.training import SGDConfig

__all__ = ["Recipe", "default_recipe", "with_amp", "with_mask_ratio"]


@dataclass(frozen=True)
class Recipe:
    """Model and per-stage configuration of one dataset.

    Attributes
    ----------
    model : ModelSpec
        Architecture.
    original : SGDConfig
        Training of the original model on $D = D_f \\cup D_r$.
    retrain : SGDConfig
        Retrain on $D_r$ from a fresh initialisation (the field uses the original's recipe).
    ft, ga : SGDConfig
        Fine-tuning on $D_r$; gradient ascent on $D_f$.
    rl : RLConfig
        Random labelling.
    l1 : L1Config
        l1-sparse fine-tuning.
    salun, rbm : MaskedRLConfig
        RL with SalUn's and with RBM's mask (same objective and ratio, different mask function).
    eval_batch_size : int
        Mini-batch size of evaluation passes (no effect on results).
    """

    model: ModelSpec
    original: SGDConfig
    retrain: SGDConfig
    ft: SGDConfig
    ga: SGDConfig
    rl: RLConfig
    l1: L1Config
    salun: MaskedRLConfig
    rbm: MaskedRLConfig
    eval_batch_size: int = 1024

    def method_config(self, method: str) -> Any:
        """The configuration ``METHODS[method]`` takes (``None`` for ``"original"``)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        return None if method == "original" else getattr(self, method)


def _cifar_scale(augment: str, schedule: str) -> Recipe:
    original = SGDConfig(epochs=182, lr=0.1, batch_size=256, milestones=(91, 136), augment=augment)
    rl = RLConfig(SGDConfig(epochs=10, lr=0.013, augment=augment), schedule=schedule)
    masked = MaskedRLConfig(rl, ratio=0.5)
    return Recipe(
        model=ModelSpec("resnet18"),
        original=original,
        retrain=original,
        ft=SGDConfig(epochs=10, lr=0.01, augment=augment),
        ga=SGDConfig(epochs=5, lr=1e-4, augment=augment),
        rl=rl,
        # alpha: the reference code publishes no default ("tuned"); 1e-4 appears in public
        # run scripts of the SalUn/Unlearn-Sparse lineage.
        l1=L1Config(SGDConfig(epochs=10, lr=0.01, augment=augment), alpha=1e-4),
        salun=masked,
        rbm=masked,
    )


def _cpu_scale(width: int) -> Recipe:
    # Original/Retrain: 12 epochs at lr 0.03 (x0.1 for the last 3), batch 128, SalUn's momentum
    # and weight decay: the width-12 CNN then fits mnist5k's training set to ~99.9 % at ~96.5 %
    # test accuracy (3 seeds), close to the memorising regime unlearning is about. Unlearning gets
    # a quarter of that budget (3 epochs). Learning rates (and l1's alpha): the smallest mean Avg.
    # Gap of bench_deep_sweep.py (random:0.1, tuning seeds 10 and 11, grid capped at the
    # original's lr 0.03): FT 0.02 (gap 2.42), GA 0.03 (1.76; at the cap), RL 0.005 (1.06),
    # l1 0.03 with alpha 2e-3 (1.78; at the cap), SalUn 0.002 (0.96), RBM 0.02 (1.04).
    batch = 128
    original = SGDConfig(epochs=12, lr=0.03, batch_size=batch, milestones=(9,))
    unlearn = SGDConfig(epochs=3, lr=0.02, batch_size=batch)

    def masked(lr: float) -> MaskedRLConfig:
        return MaskedRLConfig(RLConfig(replace(unlearn, lr=lr)), ratio=0.5, saliency_batch_size=batch)

    return Recipe(
        model=ModelSpec("cnn", width=width),
        original=original,
        retrain=original,
        ft=unlearn,
        ga=replace(unlearn, lr=0.03),
        rl=RLConfig(replace(unlearn, lr=0.005)),
        l1=L1Config(replace(unlearn, lr=0.03), alpha=2e-3),
        salun=masked(0.002),
        rbm=masked(0.02),
    )


def default_recipe(dataset: str) -> Recipe:
    """The default :class:`Recipe` of a dataset (module docstring gives the sources)."""
    if dataset in ("mnist5k", "digits"):
        return _cpu_scale(width=12)
    if dataset in ("cifar10", "svhn"):
        return _cifar_scale("crop_flip" if dataset == "cifar10" else "none", "sequential")
    if dataset in ("cifar100", "tinyimagenet"):
        return _cifar_scale("crop_flip", "union")
    raise ValueError(f"no recipe for dataset {dataset!r}")


def with_mask_ratio(recipe: Recipe, ratio: float) -> Recipe:
    """``recipe`` with mask ratio ``ratio`` for both SalUn and RBM."""
    return replace(recipe, **{m: replace(getattr(recipe, m), ratio=ratio) for m in MASKED_METHODS})


def _map_sgd(obj: Any, fn) -> Any:
    if isinstance(obj, SGDConfig):
        return fn(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return replace(obj, **{f.name: _map_sgd(getattr(obj, f.name), fn) for f in fields(obj)
                               if hasattr(getattr(obj, f.name), "__dataclass_fields__")})
    return obj


def with_amp(recipe: Recipe, amp: bool = True) -> Recipe:
    """``recipe`` with bfloat16 autocast switched on (or off) in every training stage."""
    return _map_sgd(recipe, lambda c: replace(c, amp=amp))
