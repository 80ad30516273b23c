"""Unlearning methods: uniform signature, purity, and the identities between them (rbmlib.deep.methods)."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace

import pytest
import torch
import torch.nn.functional as F

from rbmlib.deep.batches import TensorSet
from rbmlib.deep.methods import (
    MASKED_METHODS,
    METHODS,
    RBM_VARIANTS,
    REGISTRY,
    FinetuneConfig,
    GradientAscentConfig,
    L1Config,
    MaskedRLConfig,
    ResetFTConfig,
    RetrainConfig,
    RLConfig,
    child_generator,
)
from rbmlib.deep.models import ModelSpec, build_model
from rbmlib.deep.recipes import default_recipe, map_sgd, tuning, with_amp, with_mask_ratio
from rbmlib.deep.training import SGDConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SGD = SGDConfig(epochs=2, lr=0.05, batch_size=16)
RL = RLConfig(SGD)
MASKED = MaskedRLConfig(SGD, ratio=0.5, saliency_batch_size=16)
CONFIGS = {
    "original": None,
    "retrain": RetrainConfig(SGD),
    "ft": FinetuneConfig(SGD),
    "ga": GradientAscentConfig(replace(SGD, lr=0.01)),
    "rl": RL,
    "l1": L1Config(SGD, alpha=1e-3),
    "salun": MASKED,
    "rbm": MASKED,
    "random": MASKED,
    "rbm_grad": MASKED,
    "rbm_layer": MASKED,
    "rbm_reset": ResetFTConfig(SGD, ratio=0.5, saliency_batch_size=16),
}


def _sets(seed: int):
    g = torch.Generator().manual_seed(seed)

    def make(n):
        return TensorSet(
            torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=g),
            torch.randint(0, 3, (n,), generator=g),
            3,
        )

    model = build_model(
        ModelSpec("cnn", width=4), in_channels=1, image_size=8, num_classes=3, mean=(0.5,), std=(0.3,), generator=g
    )
    return model, make(48), make(16)


def _run(name, model, retain, forget, seed, cfg=None):
    return METHODS[name](
        model, retain, forget, cfg=CONFIGS[name] if cfg is None else cfg, generator=torch.Generator().manual_seed(seed)
    )


def _l1_norm(model) -> float:
    return sum(float(p.detach().abs().sum()) for p in model.parameters())


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_returns_a_new_model_and_leaves_the_input_untouched(name):
    model, retain, forget = _sets(0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    out = _run(name, model, retain, forget, 0)
    assert out is not model and not out.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("name", ["salun", "rbm", "random", "rbm_grad", "rbm_layer"])
def test_masked_methods_at_ratio_one_are_exactly_rl(name, seed):
    model, retain, forget = _sets(seed)
    cfg = replace(CONFIGS[name], ratio=1.0)
    assert _same(_run(name, model, retain, forget, seed, cfg), _run("rl", model, retain, forget, seed))


def test_salun_and_rbm_differ_at_ratio_one_half(seed):
    model, retain, forget = _sets(seed)
    assert not _same(_run("salun", model, retain, forget, seed), _run("rbm", model, retain, forget, seed))


def test_l1_sparse_with_zero_alpha_is_exactly_ft(seed):
    model, retain, forget = _sets(seed)
    cfg = L1Config(SGD, alpha=0.0)
    assert _same(_run("l1", model, retain, forget, seed, cfg), _run("ft", model, retain, forget, seed))


def test_l1_penalty_shrinks_the_weights_relative_to_ft(seed):
    model, retain, forget = _sets(seed)
    l1 = _run("l1", model, retain, forget, seed, L1Config(SGD, alpha=0.05))
    ft = _run("ft", model, retain, forget, seed)
    assert _l1_norm(l1) < _l1_norm(ft)


def test_retrain_ignores_the_input_weights(seed):
    model, retain, forget = _sets(seed)
    other, _, _ = _sets(seed + 100)
    assert _same(_run("retrain", model, retain, forget, seed), _run("retrain", other, retain, forget, seed))


def test_gradient_ascent_raises_the_forget_loss(seed):
    model, retain, forget = _sets(seed)
    out = _run("ga", model, retain, forget, seed)
    x, y = forget.x.float() / 255, forget.y
    with torch.no_grad():
        assert F.cross_entropy(out(x), y) > F.cross_entropy(model.eval()(x), y)


def test_rl_union_schedule_runs_and_differs_from_sequential(seed):
    model, retain, forget = _sets(seed)
    union = _run("rl", model, retain, forget, seed, RLConfig(SGD, schedule="union"))
    assert not _same(union, _run("rl", model, retain, forget, seed))
    # A masked method at ratio 1 follows the same schedule as RL.
    masked = _run("salun", model, retain, forget, seed, replace(MASKED, schedule="union", ratio=1.0))
    assert _same(masked, union)


def test_same_generator_seed_gives_identical_models(seed):
    model, retain, forget = _sets(seed)
    assert _same(_run("rbm", model, retain, forget, seed), _run("rbm", model, retain, forget, seed))


def test_recipes_set_ratio_and_amp_everywhere():
    r = with_mask_ratio(default_recipe("cifar10"), 0.3)
    assert r.salun.ratio == r.rbm.ratio == 0.3
    a = with_amp(r)
    assert a.original.amp and a.retrain.sgd.amp and a.ft.sgd.amp and a.ga.sgd.amp
    assert a.rl.sgd.amp and a.salun.sgd.amp and a.l1.sgd.amp and a.rbm_reset.sgd.amp
    assert a.salun.ratio == 0.3 and not r.original.amp and not r.salun.sgd.amp
    assert (a.salun.schedule, a.l1.alpha, a.rbm_reset.ratio) == (r.salun.schedule, r.l1.alpha, r.rbm_reset.ratio)


def test_map_sgd_reaches_every_training_stage_and_nothing_else():
    r = default_recipe("mnist5k")
    short = map_sgd(r, lambda c: replace(c, epochs=c.epochs + 100))
    assert short.original.epochs == r.original.epochs + 100
    for m in METHODS:
        before, after = r.method_config(m), short.method_config(m)
        if before is None:
            assert after is None
            continue
        assert after.sgd.epochs == before.sgd.epochs + 100, m
        assert replace(after, sgd=before.sgd) == before, m  # the rest of the configuration is kept


def test_cifar_recipe_is_salun_default():
    r = default_recipe("cifar10")
    assert (r.original.epochs, r.original.lr, r.original.milestones) == (182, 0.1, (91, 136))
    assert (r.ft.sgd.epochs, r.ft.sgd.lr, r.rl.sgd.lr, r.salun.ratio) == (10, 0.01, 0.013, 0.5)
    assert r.retrain.sgd == r.original and r.ga.sgd.epochs == 5
    assert r.model.arch == "resnet18" and r.original.augment == "crop_flip"
    assert default_recipe("svhn").original.augment == "none"
    assert default_recipe("cifar100").rl.schedule == default_recipe("cifar100").salun.schedule == "union"


def test_masked_config_rejects_ratio_outside_unit_interval():
    with pytest.raises(ValueError, match="mask ratio must be in \\(0, 1\\]"):
        MaskedRLConfig(SGD, ratio=0.0)
    with pytest.raises(ValueError, match="RL schedule must be"):
        MaskedRLConfig(SGD, schedule="shuffled")  # type: ignore[arg-type]


def test_rbm_variants_and_the_random_control_differ_from_salun_and_each_other(seed):
    model, retain, forget = _sets(seed)
    runs = {n: _run(n, model, retain, forget, seed) for n in ("salun", "random", "rbm", "rbm_grad", "rbm_layer")}
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not _same(runs[a], runs[b]), (a, b)


def test_random_mask_is_a_function_of_the_run_seed_and_keeps_the_batch_order(seed):
    model, retain, forget = _sets(seed)
    assert _same(_run("random", model, retain, forget, seed), _run("random", model, retain, forget, seed))
    g = torch.Generator().manual_seed(seed)
    child_generator(g, 1)  # deriving a child does not consume the parent's state
    assert torch.equal(torch.rand(5, generator=g), torch.rand(5, generator=torch.Generator().manual_seed(seed)))


def test_rbm_reset_at_ratio_one_is_ft_from_a_fresh_initialisation(seed):
    from rbmlib.deep.models import reinitialized
    from rbmlib.deep.training import fit

    model, retain, forget = _sets(seed)
    cfg = replace(CONFIGS["rbm_reset"], ratio=1.0)
    g = torch.Generator().manual_seed(seed)
    got = METHODS["rbm_reset"](model, retain, forget, cfg=cfg, generator=g)
    g2 = torch.Generator().manual_seed(seed)
    start = reinitialized(model, generator=child_generator(g2, 2))
    start.load_state_dict(
        {
            **start.state_dict(),
            **{k: v for k, v in model.state_dict().items() if k not in dict(model.named_parameters())},
        }
    )
    want = fit(start, retain, cfg=SGD, generator=g2)
    assert _same(got, want)


def test_rbm_reset_keeps_the_retain_salient_weights_before_fine_tuning(seed):
    model, retain, forget = _sets(seed)
    cfg = replace(CONFIGS["rbm_reset"], sgd=replace(SGD, epochs=0))
    out = METHODS["rbm_reset"](model, retain, forget, cfg=cfg, generator=torch.Generator().manual_seed(seed))
    before = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    after = torch.cat([p.detach().reshape(-1) for p in out.parameters()])
    kept = (before == after).float().mean().item()
    assert 0.45 < kept < 0.6  # half the weights (the retain-salient ones) untouched, the rest redrawn


def test_every_recipe_method_has_a_provenance_and_cifar_rbm_is_marked_untuned():
    for d in ("mnist5k", "cifar10", "cifar100", "svhn", "tinyimagenet"):
        t = tuning(d)
        assert set(t) == set(METHODS) - {"original", "retrain"}
    assert tuning("cifar10")["rbm"].status == "not yet tuned"
    assert all(default_recipe("mnist5k").method_config(m) is not None for m in tuning("mnist5k"))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_method_has_the_one_signature_and_the_recipe_gives_its_config_type(name):
    params = inspect.signature(METHODS[name]).parameters
    assert list(params) == ["model", "retain", "forget", "cfg", "generator"]  # no display arguments
    assert [p.kind for p in params.values()][3:] == [inspect.Parameter.KEYWORD_ONLY] * 2
    config = REGISTRY[name].config
    cfg = default_recipe("mnist5k").method_config(name)
    if config is None:
        assert cfg is None and name == "original"
    else:
        assert type(cfg) is config and isinstance(cfg.sgd, SGDConfig)
        assert type(CONFIGS[name]) is config  # the configurations these tests run


def test_method_lists_are_derived_from_the_registry():
    assert list(METHODS) == list(REGISTRY) and all(METHODS[m] is REGISTRY[m].run for m in REGISTRY)
    ratio = {m for m, spec in REGISTRY.items() if spec.config and "ratio" in {f.name for f in fields(spec.config)}}
    assert set(MASKED_METHODS) == ratio == {"salun", "random", "rbm", "rbm_grad", "rbm_layer", "rbm_reset"}
    assert RBM_VARIANTS == ("rbm_grad", "rbm_layer", "rbm_reset")


def test_noisy_recipe_is_the_memorising_network_and_marks_what_is_not_tuned():
    r = default_recipe("mnist5k", "noisy:0.1")
    assert (r.model.width, r.original.epochs, r.original.milestones) == (48, 30, (24,))
    t = tuning("mnist5k", "noisy:0.1")
    assert t["salun"].status == "tuned" and t["rbm"].status == "not yet tuned" and t["ft"].status == "not yet tuned"
    assert r.random.ratio == r.salun.ratio  # the control runs at SalUn's ratio
    with pytest.raises(ValueError, match="scenario"):
        default_recipe("mnist5k", "shuffle:3")
