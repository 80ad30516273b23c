"""Default recipes per dataset, their provenance, and the recipe transformations."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pytest

from rbmlib.deep.methods import MASKED_METHODS, METHODS, MaskedRLConfig
from rbmlib.deep.recipes import default_recipe, tuning, with_amp, with_mask_ratio
from rbmlib.deep.training import SGDConfig

DATASETS = ("mnist5k", "digits", "cifar10", "svhn", "cifar100", "tinyimagenet")


def _sgd_configs(obj) -> list[SGDConfig]:
    """Every SGDConfig reachable from ``obj`` through dataclass fields (a walk of its own)."""
    if isinstance(obj, SGDConfig):
        return [obj]
    if is_dataclass(obj):
        return [c for f in fields(obj) for c in _sgd_configs(getattr(obj, f.name))]
    return []


def _values(cfg) -> dict[str, float]:
    """The tuned quantities of a method configuration: lr, ratio (masked), alpha (l1)."""
    assert _sgd_configs(cfg) == [cfg.sgd], "a method configuration has exactly one training stage, its sgd"
    out = {"lr": cfg.sgd.lr}
    for name in ("ratio", "alpha"):
        if hasattr(cfg, name):
            out[name] = getattr(cfg, name)
    return out


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("scenario", [None, "random:0.1", "class:3"])
def test_the_recipe_uses_exactly_the_values_its_provenance_lists(dataset, scenario):
    recipe, provenance = default_recipe(dataset, scenario), tuning(dataset, scenario)
    assert set(provenance) == set(METHODS) - {"original", "retrain"}
    for method, entry in provenance.items():
        assert _values(recipe.method_config(method)) == entry.values, method
        assert entry.status in ("tuned", "not yet tuned") and entry.command.startswith("python ")


def test_cpu_scale_is_tuned_and_cifar_scale_is_not():
    assert {t.status for t in tuning("mnist5k", "random:0.1").values()} == {"tuned"}
    assert {t.status for t in tuning("cifar10").values()} == {"not yet tuned"}
    noisy = tuning("mnist5k", "noisy:0.1")
    assert noisy["salun"].status == "tuned" and noisy["rbm"].status == "not yet tuned"
    # The class-wise scenario has values of its own for the compared methods, FT keeps random's.
    assert tuning("mnist5k", "class:3")["rbm"].values != tuning("mnist5k", "random:0.1")["rbm"].values
    assert tuning("mnist5k", "class:3")["ft"].values == tuning("mnist5k", "random:0.1")["ft"].values


def test_dataset_specific_choices_follow_salun():
    cifar10, svhn, cifar100 = default_recipe("cifar10"), default_recipe("svhn"), default_recipe("cifar100")
    assert cifar10.model.arch == "resnet18" and cifar10.original.epochs == 182
    assert cifar10.original.milestones == (91, 136) and cifar10.retrain.sgd == cifar10.original
    assert {c.augment for c in _sgd_configs(cifar10)} == {"crop_flip"}
    assert {c.augment for c in _sgd_configs(svhn)} == {"none"}  # house numbers are not flipped
    assert cifar10.rl.schedule == cifar10.salun.schedule == "sequential"
    assert cifar100.rl.schedule == cifar100.rbm.schedule == "union"
    cpu = default_recipe("mnist5k")
    assert cpu.model.arch == "cnn" and cpu.model.width == 12
    assert {c.epochs for c in _sgd_configs(cpu) if c is not cpu.original and c is not cpu.retrain.sgd} == {3}
    noisy = default_recipe("mnist5k", "noisy:0.1")
    assert noisy.model.width == 48 and noisy.original.epochs == 30 and noisy.original.milestones == (24,)


@pytest.mark.parametrize(
    ("dataset", "scenario", "message"),
    [
        ("imagenet", None, "no recipe for dataset 'imagenet'"),
        ("mnist5k", "subclass:3", "no recipe for scenario 'subclass:3'"),
        ("cifar10", "noisy:0.1", "no recipe for a mislabelled forget set on 'cifar10'"),
    ],
)
def test_a_recipe_that_does_not_exist_is_an_error(dataset, scenario, message):
    with pytest.raises(ValueError, match=message):
        default_recipe(dataset, scenario)


def test_method_config_of_every_method():
    recipe = default_recipe("digits")
    assert recipe.method_config("original") is None
    assert recipe.method_config("rbm") is recipe.rbm and recipe.method_config("retrain") is recipe.retrain
    with pytest.raises(ValueError, match="unknown method 'rbm2'"):
        recipe.method_config("rbm2")


def test_with_mask_ratio_changes_the_masked_methods_only():
    recipe = default_recipe("mnist5k")
    changed = with_mask_ratio(recipe, 0.25)
    for f in fields(recipe):
        before, after = getattr(recipe, f.name), getattr(changed, f.name)
        if f.name in MASKED_METHODS:
            assert after.ratio == 0.25 and _sgd_configs(after) == _sgd_configs(before)
        else:
            assert after == before, f.name
    with pytest.raises(ValueError, match=r"mask ratio must be in \(0, 1\], got 1.5"):
        with_mask_ratio(recipe, 1.5)


def test_with_amp_switches_every_training_stage_and_nothing_else():
    recipe = default_recipe("cifar10")
    amp = with_amp(recipe)
    assert all(c.amp for c in _sgd_configs(amp)) and not any(c.amp for c in _sgd_configs(recipe))
    assert len(_sgd_configs(amp)) == len(_sgd_configs(recipe)) == 12  # original, retrain and the ten unlearning methods
    assert with_amp(amp, amp=False) == recipe
    assert isinstance(amp.salun, MaskedRLConfig) and amp.salun.ratio == recipe.salun.ratio


@pytest.mark.parametrize("method", ["ft", "ga", "rl", "l1", "salun", "rbm_reset"])
def test_a_tuning_point_changes_the_learning_rate_and_ratio_only(method):
    from dataclasses import replace

    from rbmlib.deep.tune import with_point

    recipe = default_recipe("mnist5k")
    before = recipe.method_config(method)
    ratio = 0.9 if method in MASKED_METHODS else None
    point = with_point(recipe, method, 0.123, ratio)
    assert type(point) is type(before) and point.sgd == replace(before.sgd, lr=0.123)
    assert replace(point, sgd=before.sgd, **({"ratio": before.ratio} if ratio else {})) == before
    if ratio is not None:
        assert point.ratio == 0.9


def test_a_tuning_point_refuses_a_ratio_for_an_unmasked_method_and_untunable_methods():
    from rbmlib.deep.tune import with_point

    recipe = default_recipe("mnist5k")
    with pytest.raises(ValueError, match="method 'ft' takes no mask ratio"):
        with_point(recipe, "ft", 0.01, 0.5)
    with pytest.raises(ValueError, match="cannot tune method 'retrain'"):
        with_point(recipe, "retrain", 0.01, None)
