"""Saliency masks: SalUn's statistic, exact ratios, RBM's complement rule, ties (rbmlib.deep.saliency)."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rbmlib.deep.batches import TensorSet, iterate_batches
from rbmlib.deep.models import ModelSpec, build_model
from rbmlib.deep.saliency import (
    fisher_scores,
    forget_saliency_mask,
    layerwise_top_k_mask,
    n_updated,
    random_mask,
    retain_saliency_mask,
    saliency_scores,
    top_k_mask,
    updated_fraction,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _setup(seed: int, n: int = 40):
    g = torch.Generator().manual_seed(seed)
    data = TensorSet(
        torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=g), torch.randint(0, 3, (n,), generator=g), 3
    )
    model = build_model(
        ModelSpec("cnn", width=4), in_channels=1, image_size=8, num_classes=3, mean=(0.5,), std=(0.3,), generator=g
    )
    return data, model


def _flat(d):
    return torch.cat([v.reshape(-1) for v in d.values()])


def test_scores_are_abs_of_summed_batch_mean_gradients_in_eval_mode(seed):
    data, model = _setup(seed)
    model.train()
    scores = saliency_scores(model, data, batch_size=16)
    net = copy.deepcopy(model).eval()
    for x, y in iterate_batches(data, 16, generator=None):
        F.cross_entropy(net(x), y).backward()  # .grad accumulates the sum of batch means
    expected = {n: p.grad.abs() for n, p in net.named_parameters()}
    torch.testing.assert_close(_flat(scores), _flat(expected), rtol=1e-5, atol=1e-7)
    assert model.training  # the caller's model keeps its mode


@pytest.mark.parametrize("ratio", [0.01, 0.3, 0.5, 0.77, 1.0])
def test_both_masks_update_exactly_round_ratio_times_n_weights(ratio):
    data, model = _setup(0)
    n = sum(p.numel() for p in model.parameters())
    for make in (forget_saliency_mask, retain_saliency_mask):
        mask = make(model, data, ratio=ratio, batch_size=16)
        assert sum(int(m.sum()) for m in mask.values()) == round(ratio * n)
        assert updated_fraction(mask) == pytest.approx(round(ratio * n) / n)


def test_salun_updates_the_most_forget_salient_weights(seed):
    data, model = _setup(seed)
    s = _flat(saliency_scores(model, data, batch_size=16))
    m = _flat(forget_saliency_mask(model, data, ratio=0.4, batch_size=16))
    assert s[m].min() >= s[~m].max()


def test_rbm_freezes_the_most_retain_salient_weights(seed):
    data, model = _setup(seed)
    s = _flat(saliency_scores(model, data, batch_size=16))
    updated = _flat(retain_saliency_mask(model, data, ratio=0.4, batch_size=16, statistic="grad"))
    assert s[~updated].min() >= s[updated].max()  # frozen = retain-salient = highest scores
    f = _flat(fisher_scores(model, data, batch_size=16))
    updated = _flat(retain_saliency_mask(model, data, ratio=0.4, batch_size=16))  # primary: Fisher
    assert f[~updated].min() >= f[updated].max()


def test_ratio_one_updates_every_weight_for_both_masks():
    data, model = _setup(0)
    for make in (forget_saliency_mask, retain_saliency_mask):
        assert all(m.all() for m in make(model, data, ratio=1.0, batch_size=16).values())


def test_ties_are_broken_by_parameter_order():
    scores = {"a": torch.ones(2, 3), "b": torch.ones(4)}
    mask = top_k_mask(scores, 5)
    assert _flat(mask).tolist() == [True] * 5 + [False] * 5


def test_top_k_is_global_across_tensors():
    scores = {"a": torch.tensor([0.1, 0.9]), "b": torch.tensor([0.8, 0.2, 0.7])}
    mask = top_k_mask(scores, 3)
    assert mask["a"].tolist() == [False, True] and mask["b"].tolist() == [True, False, True]


@pytest.mark.parametrize("ratio", [0.0, -0.1, 1.5])
def test_ratio_outside_unit_interval_raises(ratio):
    with pytest.raises(ValueError, match="mask ratio must be in \\(0, 1\\]"):
        n_updated(100, ratio)


def test_ratio_that_updates_no_weight_raises():
    with pytest.raises(ValueError, match="updates no weight"):
        n_updated(100, 0.001)


def test_non_finite_scores_raise():
    with pytest.raises(ValueError, match="NaN or infinity"):
        top_k_mask({"a": torch.tensor([1.0, float("nan")])}, 1)


def test_masks_do_not_modify_the_model(seed):
    data, model = _setup(seed)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    retain_saliency_mask(model, data, ratio=0.5, batch_size=16)
    forget_saliency_mask(model, data, ratio=0.5, batch_size=16)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    levels=st.integers(1, 4),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_top_k_selects_exactly_k_highest_with_index_order_tie_breaks(sizes, levels, data):
    n = sum(sizes)
    flat = torch.tensor(
        data.draw(st.lists(st.integers(0, levels - 1), min_size=n, max_size=n)), dtype=torch.float32
    )  # few levels: many ties
    k = data.draw(st.integers(0, n))
    scores = dict(zip(map(str, range(len(sizes))), torch.split(flat, sizes)))
    chosen = _flat(top_k_mask(scores, k))
    assert int(chosen.sum()) == k
    if 0 < k < n:
        assert flat[chosen].min() >= flat[~chosen].max()
        threshold = flat[chosen].min()
        tied = torch.nonzero(flat == threshold).flatten()
        picked = chosen[tied]
        assert not (picked[1:] & ~picked[:-1]).any()  # among ties, the earlier ones are picked


def test_fisher_is_the_sum_of_squared_per_sample_gradients_in_eval_mode(seed):
    data, model = _setup(seed, n=12)
    model.train()
    got = fisher_scores(model, data, batch_size=5)  # chunks of 5, 5, 2
    net = copy.deepcopy(model).eval()
    want = {n: torch.zeros_like(p) for n, p in net.named_parameters()}
    for x, y in iterate_batches(data, 1, generator=None):
        grads = torch.autograd.grad(F.cross_entropy(net(x), y), list(net.parameters()))
        for (n, _), g in zip(net.named_parameters(), grads):
            want[n] += g.square()
    torch.testing.assert_close(_flat(got), _flat(want), rtol=1e-4, atol=1e-8)
    assert model.training


def test_fisher_is_a_sum_over_samples_not_a_mean(seed):
    # Duplicating the set doubles the Fisher (a sum over samples, not a mean of batches).
    data, model = _setup(seed, n=8)
    twice = TensorSet(torch.cat([data.x, data.x]), torch.cat([data.y, data.y]), 3)
    torch.testing.assert_close(
        _flat(fisher_scores(model, twice, batch_size=8)),
        2 * _flat(fisher_scores(model, data, batch_size=8)),
        rtol=1e-4,
        atol=1e-8,
    )


def test_layerwise_ranking_updates_round_ratio_of_every_tensor(seed):
    data, model = _setup(seed)
    mask = retain_saliency_mask(model, data, ratio=0.4, batch_size=16, ranking="layer")
    f = fisher_scores(model, data, batch_size=16)
    for name, m in mask.items():
        assert int(m.sum()) == round(0.4 * m.numel())
        if (~m).any() and m.any():
            assert f[name][~m].min() >= f[name][m].max()
    with pytest.raises(ValueError, match="ratio"):
        layerwise_top_k_mask(f, 0.0)


def test_random_mask_has_exact_size_and_depends_only_on_the_generator(seed):
    _, model = _setup(seed)
    n = sum(p.numel() for p in model.parameters())
    a = random_mask(model, ratio=0.3, generator=torch.Generator().manual_seed(seed))
    b = random_mask(model, ratio=0.3, generator=torch.Generator().manual_seed(seed))
    c = random_mask(model, ratio=0.3, generator=torch.Generator().manual_seed(seed + 1))
    assert sum(int(m.sum()) for m in a.values()) == round(0.3 * n)
    assert torch.equal(_flat(a), _flat(b)) and not torch.equal(_flat(a), _flat(c))


def test_unknown_statistic_or_ranking_is_an_error():
    data, model = _setup(0)
    with pytest.raises(ValueError, match="statistic"):
        retain_saliency_mask(model, data, ratio=0.5, batch_size=16, statistic="hessian")
    with pytest.raises(ValueError, match="ranking"):
        retain_saliency_mask(model, data, ratio=0.5, batch_size=16, ranking="row")
