"""Default hyper-parameters per dataset: SalUn's for the CIFAR scale, tuned ones for CPU scale.

A :class:`Recipe` gathers the model and every stage's configuration; variants are made with
:func:`dataclasses.replace` (or :func:`with_mask_ratio`, :func:`with_amp`, :func:`map_sgd`).

* ``cifar10``, ``cifar100``, ``svhn``, ``tinyimagenet`` -- SalUn's CIFAR-10 + ResNet-18 defaults
  (``unlearning-reference.md`` in the project's shared notes; SalUn's ``arg_parser.py`` and run
  scripts): original training and Retrain 182 epochs at lr 0.1, x0.1 at epochs 91 and 136; FT and
  l1-sparse 10 epochs at 0.01; GA 5 epochs at 1e-4 (the low end of its published 1e-4..1e-3
  range); RL/SalUn 10 epochs at 0.013 with mask ratio 0.5; batch 256, SGD momentum 0.9, weight
  decay 5e-4. Augmentation follows SalUn's loaders: crop + flip on CIFAR and TinyImageNet, none on
  SVHN (house numbers are digits). RL is sequential (D_f pass, then D_r pass) on CIFAR-10/SVHN and
  a shuffled union on CIFAR-100/TinyImageNet, as in SalUn's code.
* ``mnist5k`` and ``digits`` -- CPU scale, width-12 :class:`~rbmlib.deep.models.SmallCNN`,
  every unlearning method the same budget (3 epochs). Learning rates and mask ratios of the
  methods compared for claim C7 (RL, SalUn, the random control, the RBMs) come from
  ``python -m rbmlib tune`` (:mod:`rbmlib.deep.tune`), per scenario kind (random forgetting tuned
  on ``random:0.1``, class-wise on ``class:3``), on tuning seeds (10, 11) disjoint from the
  reported seeds (0-4); FT, GA and l1 keep the values of the earlier lr-only sweep
  (``benchmarks/bench_deep_sweep.py``). :func:`tuning` gives every value's provenance and the
  command that chose it. ``digits`` reuses mnist5k's recipe untuned (it exists for tests).
* The CIFAR-scale values are SalUn's defaults, marked ``"not yet tuned"`` in :func:`tuning`
  (RBM's included), with the ``tune`` command that would tune them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from rbmlib.deep.batches import Augment
from rbmlib.deep.methods import (
    MASKED_METHODS,
    METHODS,
    FinetuneConfig,
    GradientAscentConfig,
    L1Config,
    MaskedConfig,
    MaskedRLConfig,
    MethodConfig,
    ResetFTConfig,
    RetrainConfig,
    RLConfig,
    Schedule,
)
from rbmlib.deep.models import ModelSpec
from rbmlib.deep.training import SGDConfig
from rbmlib.presentation import scenario_label

__all__ = [
    "CPU_TUNE_COMMAND",
    "Recipe",
    "Tuning",
    "default_recipe",
    "map_sgd",
    "tuning",
    "with_amp",
    "with_mask_ratio",
]


@dataclass(frozen=True)
class Recipe:
    """Model and per-stage configuration of one dataset.

    Attributes
    ----------
    model : ModelSpec
        Architecture.
    original : SGDConfig
        Training of the original model on $D = D_f \\cup D_r$.
    retrain : RetrainConfig
        Retrain on $D_r$ from a fresh initialisation (the field uses the original's recipe).
    ft : FinetuneConfig
        Fine-tuning on $D_r$.
    ga : GradientAscentConfig
        Gradient ascent on $D_f$.
    rl : RLConfig
        Random labelling.
    l1 : L1Config
        l1-sparse fine-tuning.
    salun, random, rbm, rbm_grad, rbm_layer : MaskedRLConfig
        RL with SalUn's mask, the random control's and RBM's (primary and variants): same
        objective and ratio semantics, different mask function.
    rbm_reset : ResetFTConfig
        Reset-then-FT RBM.
    eval_batch_size : int
        Mini-batch size of evaluation passes (no effect on results).
    """

    model: ModelSpec
    original: SGDConfig
    retrain: RetrainConfig
    ft: FinetuneConfig
    ga: GradientAscentConfig
    rl: RLConfig
    l1: L1Config
    salun: MaskedRLConfig
    random: MaskedRLConfig
    rbm: MaskedRLConfig
    rbm_grad: MaskedRLConfig
    rbm_layer: MaskedRLConfig
    rbm_reset: ResetFTConfig
    eval_batch_size: int = 1024

    def method_config(self, method: str) -> MethodConfig | None:
        """The configuration ``METHODS[method]`` takes (``None`` for ``"original"``)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        if method == "original":
            return None
        cfg: MethodConfig = getattr(self, method)
        return cfg

    def masked_config(self, method: str) -> MaskedConfig:
        """The configuration of a masked method (one of :data:`~rbmlib.deep.methods.MASKED_METHODS`)."""
        if method not in MASKED_METHODS:
            raise ValueError(f"method {method!r} takes no mask ratio; expected one of {', '.join(MASKED_METHODS)}")
        cfg: MaskedConfig = getattr(self, method)
        return cfg


@dataclass(frozen=True)
class Tuning:
    """Where one method's hyper-parameters in a recipe come from.

    Attributes
    ----------
    values : dict
        The chosen values (``lr``; ``ratio`` for masked methods; ``alpha`` for l1).
    status : {"tuned", "not yet tuned"}
        ``"tuned"``: chosen by ``command`` (the protocol of :mod:`rbmlib.deep.tune`);
        ``"not yet tuned"``: a default taken over from the field (``source`` says which).
    command : str
        The command that chose the values, or the one to run to tune them.
    source : str
        One line: what the values are and where they come from.
    """

    values: dict[str, float]
    status: Literal["tuned", "not yet tuned"]
    command: str
    source: str


def _cifar_tuning(dataset: str) -> dict[str, Tuning]:
    cmd = (
        f"python -m rbmlib tune --dataset {dataset} --scenario random:0.1 --methods {{m}} "
        f"--seeds 10 11 --device cuda --data-root DATA --out tune/{dataset}"
    )
    salun = "SalUn's CIFAR-10 default (lr 0.013, ratio 0.5), taken over untuned"
    out = {
        "ft": Tuning({"lr": 0.01}, "not yet tuned", cmd.format(m="ft"), "SalUn's CIFAR-10 FT default"),
        "ga": Tuning({"lr": 1e-4}, "not yet tuned", cmd.format(m="ga"), "low end of SalUn's GA range"),
        "rl": Tuning({"lr": 0.013}, "not yet tuned", cmd.format(m="rl"), "SalUn's CIFAR-10 RL default"),
        "l1": Tuning(
            {"lr": 0.01, "alpha": 1e-4},
            "not yet tuned",
            cmd.format(m="l1"),
            "lr: SalUn's FT default; alpha: public run scripts of the lineage",
        ),
        "salun": Tuning({"lr": 0.013, "ratio": 0.5}, "not yet tuned", cmd.format(m="salun"), salun),
    }
    for m in ("random", "rbm", "rbm_grad", "rbm_layer"):
        out[m] = Tuning({"lr": 0.013, "ratio": 0.5}, "not yet tuned", cmd.format(m=m), salun)
    out["rbm_reset"] = Tuning(
        {"lr": 0.01, "ratio": 0.5},
        "not yet tuned",
        cmd.format(m="rbm_reset"),
        "SalUn's CIFAR-10 FT default, ratio 0.5, taken over untuned",
    )
    return out


def _cifar_scale(dataset: str, augment: Augment, schedule: Schedule) -> Recipe:
    t = {m: r.values for m, r in _cifar_tuning(dataset).items()}
    original = SGDConfig(epochs=182, lr=0.1, batch_size=256, milestones=(91, 136), augment=augment)
    unlearn = SGDConfig(epochs=10, lr=0.01, augment=augment)

    def masked(m: str) -> MaskedRLConfig:
        return MaskedRLConfig(replace(unlearn, lr=t[m]["lr"]), schedule=schedule, ratio=t[m]["ratio"])

    return Recipe(
        model=ModelSpec("resnet18"),
        original=original,
        retrain=RetrainConfig(original),
        ft=FinetuneConfig(replace(unlearn, lr=t["ft"]["lr"])),
        ga=GradientAscentConfig(SGDConfig(epochs=5, lr=t["ga"]["lr"], augment=augment)),
        rl=RLConfig(replace(unlearn, lr=t["rl"]["lr"]), schedule=schedule),
        l1=L1Config(replace(unlearn, lr=t["l1"]["lr"]), alpha=t["l1"]["alpha"]),
        salun=masked("salun"),
        random=masked("random"),
        rbm=masked("rbm"),
        rbm_grad=masked("rbm_grad"),
        rbm_layer=masked("rbm_layer"),
        rbm_reset=ResetFTConfig(replace(unlearn, lr=t["rbm_reset"]["lr"]), ratio=t["rbm_reset"]["ratio"]),
    )


#: The tuning command of the CPU-scale recipe; ``{scenario}`` is the tuning scenario of its kind.
CPU_TUNE_COMMAND = (
    "python -m rbmlib tune --dataset mnist5k --scenario {scenario} "
    "--methods salun,random,rl,rbm,rbm_grad,rbm_layer,rbm_reset --seeds 10 11 "
    "--threads 1 --out tune/mnist5k"
)
_OLD_SWEEP = "python benchmarks/bench_deep_sweep.py --seeds 10 11 (the lr-only sweep before `tune`)"
_TUNING_SCENARIO: dict[str, str] = {"random": "random:0.1", "class": "class:3", "noisy": "noisy:0.1"}

#: Values chosen by CPU_TUNE_COMMAND (smallest mean Avg. Gap over tuning seeds 10 and 11, default
#: grids lr 0.002-0.02 and ratio 0.3-0.7, widened once where the optimum sat on an edge; none is
#: on an edge now), per scenario kind: "random" tuned on random:0.1, "class" on class:3. Each
#: entry: the values and the mean Avg. Gap at the optimum. The random control is a control of
#: SalUn, so it runs at SalUn's ratio, with its own best lr at that ratio (on class:3 its overall
#: optimum was ratio 0.7, lr 0.002, Avg. Gap 0.16). FT's class:3 optimum stayed on the grid's
#: upper edge (lr 0.08 after two widenings, Avg. Gap 21.0, far above the original's lr 0.03),
#: so FT keeps its random:0.1 value.
_CPU_TUNED: dict[str, dict[str, tuple[dict[str, float], float]]] = {
    "random": {
        "salun": ({"lr": 0.005, "ratio": 0.3}, 0.92),
        "random": ({"lr": 0.02, "ratio": 0.3}, 0.90),
        "rl": ({"lr": 0.005}, 1.06),
        "rbm": ({"lr": 0.02, "ratio": 0.5}, 1.31),
        "rbm_grad": ({"lr": 0.02, "ratio": 0.5}, 1.04),
        "rbm_layer": ({"lr": 0.002, "ratio": 0.5}, 1.27),
        "rbm_reset": ({"lr": 0.005, "ratio": 0.7}, 1.17),
    },
    "class": {
        "salun": ({"lr": 0.002, "ratio": 0.5}, 0.22),
        "random": ({"lr": 0.005, "ratio": 0.5}, 0.44),
        "rl": ({"lr": 0.002}, 0.26),
        "rbm": ({"lr": 0.005, "ratio": 0.7}, 0.15),
        "rbm_grad": ({"lr": 0.01, "ratio": 0.9}, 0.36),
        "rbm_layer": ({"lr": 0.002, "ratio": 0.9}, 0.19),
        "rbm_reset": ({"lr": 0.02, "ratio": 0.7}, 0.29),
    },
    # noisy:0.1 (width 48): only SalUn, the control and RBM were tuned (--methods salun,random,rbm).
    # RBM's optimum stayed on the grid's edge (lr 0.08, ratio 0.9, Avg. Gap 1.61) after two
    # widenings, so it is listed in _CPU_UNSETTLED instead.
    "noisy": {
        "salun": ({"lr": 0.02, "ratio": 0.5}, 1.50),
        "random": ({"lr": 0.04, "ratio": 0.5}, 1.19),
    },
}

#: Tuning runs whose optimum stayed on the grid's edge: values of the edge point, status
#: "not yet tuned" (rerun ``tune`` with a wider grid).
_CPU_UNSETTLED: dict[str, dict[str, tuple[dict[str, float], float]]] = {
    "noisy": {"rbm": ({"lr": 0.08, "ratio": 0.9}, 1.61)},
}


def _cpu_tuning(kind: str = "random") -> dict[str, Tuning]:
    # FT, GA and l1 keep the earlier lr-only sweep's values (random:0.1, the same tuning seeds)
    # unless tuned for the kind: they are reference points, not arms of the C7 comparison.
    # ``source`` is shown to readers (Chapter 6's tuning table): scenarios by their readable names.
    random = scenario_label("random:0.1")
    sweep = f"tuned on {random} by a sweep of the learning rate alone"
    out = {
        "ft": Tuning({"lr": 0.02}, "tuned", _OLD_SWEEP, f"{sweep}, Avg. Gap 2.42"),
        "ga": Tuning(
            {"lr": 0.03},
            "tuned",
            _OLD_SWEEP,
            f"{sweep}, Avg. Gap 1.76; at the grid's cap (the original's learning rate)",
        ),
        "l1": Tuning(
            {"lr": 0.03, "alpha": 2e-3}, "tuned", _OLD_SWEEP, f"{sweep}, Avg. Gap 1.78; learning rate at the grid's cap"
        ),
    }
    for m, (values, gap) in _CPU_TUNED["random"].items():
        out[m] = Tuning(
            values, "tuned", CPU_TUNE_COMMAND.format(scenario="random:0.1"), f"tuned on {random}, Avg. Gap {gap:.2f}"
        )
    scenario = _TUNING_SCENARIO[kind]
    cmd = CPU_TUNE_COMMAND.format(scenario=scenario)
    if kind == "noisy":  # a different network: values not tuned for it are not tuned at all
        for m, t in out.items():
            out[m] = Tuning(t.values, "not yet tuned", cmd, f"the narrow network's values ({t.source})")
    for m, (values, gap) in _CPU_TUNED[kind].items():
        out[m] = Tuning(values, "tuned", cmd, f"tuned on {scenario_label(scenario)}, Avg. Gap {gap:.2f}")
    for m, (values, gap) in _CPU_UNSETTLED.get(kind, {}).items():
        out[m] = Tuning(
            values,
            "not yet tuned",
            cmd,
            f"optimum on the grid's edge after two widenings "
            f"on {scenario_label(scenario)} (Avg. Gap {gap:.2f}); rerun with a wider grid",
        )
    return out


def _cpu_scale(width: int, kind: str, original_epochs: int = 12, milestone: int = 9) -> Recipe:
    # Original/Retrain: 12 epochs at lr 0.03 (x0.1 for the last 3), batch 128, SalUn's momentum
    # and weight decay: the width-12 CNN then fits mnist5k's training set to ~99.9 % at ~96.5 %
    # test accuracy (3 seeds), close to the memorising regime unlearning is about. Unlearning gets
    # a quarter of that budget (3 epochs); every method the same budget. Learning rates and
    # ratios: :func:`_cpu_tuning` (values, provenance, command).
    t = {m: r.values for m, r in _cpu_tuning(kind).items()}
    batch = 128
    original = SGDConfig(epochs=original_epochs, lr=0.03, batch_size=batch, milestones=(milestone,))
    unlearn = SGDConfig(epochs=3, lr=0.02, batch_size=batch)

    def masked(m: str) -> MaskedRLConfig:
        return MaskedRLConfig(replace(unlearn, lr=t[m]["lr"]), ratio=t[m]["ratio"], saliency_batch_size=batch)

    return Recipe(
        model=ModelSpec("cnn", width=width),
        original=original,
        retrain=RetrainConfig(original),
        ft=FinetuneConfig(replace(unlearn, lr=t["ft"]["lr"])),
        ga=GradientAscentConfig(replace(unlearn, lr=t["ga"]["lr"])),
        rl=RLConfig(replace(unlearn, lr=t["rl"]["lr"])),
        l1=L1Config(replace(unlearn, lr=t["l1"]["lr"]), alpha=t["l1"]["alpha"]),
        salun=masked("salun"),
        random=masked("random"),
        rbm=masked("rbm"),
        rbm_grad=masked("rbm_grad"),
        rbm_layer=masked("rbm_layer"),
        rbm_reset=ResetFTConfig(
            replace(unlearn, lr=t["rbm_reset"]["lr"]), ratio=t["rbm_reset"]["ratio"], saliency_batch_size=batch
        ),
    )


def _kind(scenario: str | None) -> str:
    if scenario is None:
        return "random"  # the field tunes on random forgetting
    kind = scenario.partition(":")[0]
    if kind not in _TUNING_SCENARIO:
        raise ValueError(f"no recipe for scenario {scenario!r}; expected 'random:<f>', 'class:<c>' or 'noisy:<f>'")
    return kind


def tuning(dataset: str, scenario: str | None = None) -> dict[str, Tuning]:
    """Provenance of every method's hyper-parameters in :func:`default_recipe` ``(dataset, scenario)``."""
    if dataset in ("mnist5k", "digits"):
        return _cpu_tuning(_kind(scenario))
    if dataset in ("cifar10", "svhn", "cifar100", "tinyimagenet"):
        return _cifar_tuning(dataset)
    raise ValueError(f"no recipe for dataset {dataset!r}")


def default_recipe(dataset: str, scenario: str | None = None) -> Recipe:
    """The default :class:`Recipe` of a dataset (module docstring gives the sources).

    Parameters
    ----------
    dataset : str
        Dataset name.
    scenario : str, optional
        The forgetting scenario: at CPU scale, the values tuned on the scenario of the same kind
        (``random:0.1`` for ``random:*``, ``class:3`` for ``class:*``; a method not tuned for the
        kind keeps its random-forgetting values, and :func:`tuning` says so). ``noisy:*``
        (:mod:`rbmlib.deep.mislabel`) takes the memorising width-48 network, 30 original epochs.
        ``None``: the random kind, the field's tuning scenario. The CIFAR-scale recipes are not
        yet tuned at all.
    """
    kind = _kind(scenario)
    if dataset in ("mnist5k", "digits") and kind == "noisy":
        # The memorising network of the scenario with power (unlearning-reference.md): width 48,
        # 30 epochs with the lr x0.1 at epoch 24, so the original fits the wrong labels.
        return _cpu_scale(width=48, kind=kind, original_epochs=30, milestone=24)
    if dataset in ("mnist5k", "digits"):
        return _cpu_scale(width=12, kind=kind)
    if kind == "noisy":
        raise ValueError(f"no recipe for a mislabelled forget set on {dataset!r} (CPU scale only)")
    if dataset in ("cifar10", "svhn"):
        return _cifar_scale(dataset, "crop_flip" if dataset == "cifar10" else "none", "sequential")
    if dataset in ("cifar100", "tinyimagenet"):
        return _cifar_scale(dataset, "crop_flip", "union")
    raise ValueError(f"no recipe for dataset {dataset!r}")


def with_mask_ratio(recipe: Recipe, ratio: float) -> Recipe:
    """``recipe`` with mask ratio ``ratio`` for every masked method (SalUn, random, the RBMs)."""
    # replace() takes the fields by name; their types are checked where they are read
    # (Recipe.masked_config), since mypy cannot type keyword names known only at run time.
    changes: dict[str, Any] = {m: replace(recipe.masked_config(m), ratio=ratio) for m in MASKED_METHODS}
    return replace(recipe, **changes)


def map_sgd(recipe: Recipe, fn: Callable[[SGDConfig], SGDConfig]) -> Recipe:
    """``recipe`` with ``fn`` applied to the :class:`SGDConfig` of every training stage.

    The original training's configuration is an :class:`SGDConfig` itself; every method's
    configuration holds one as its ``sgd`` field.
    """
    changes: dict[str, Any] = {"original": fn(recipe.original)}  # keyword names: see with_mask_ratio
    for m in METHODS:
        cfg = recipe.method_config(m)
        if cfg is not None:
            changes[m] = replace(cfg, sgd=fn(cfg.sgd))
    return replace(recipe, **changes)


def with_amp(recipe: Recipe, amp: bool = True) -> Recipe:
    """``recipe`` with bfloat16 autocast switched on (or off) in every training stage."""
    return map_sgd(recipe, lambda c: replace(c, amp=amp))
