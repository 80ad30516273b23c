"""The masked-SGD engine: hard masks are exact, leaky masks leak, BatchNorm policy (rbmlib.deep.training)."""

from __future__ import annotations

import pytest
import torch

from rbmlib.deep.batches import TensorSet, iterate_batches
from rbmlib.deep.models import ModelSpec, build_model
from rbmlib.deep.saliency import top_k_mask
from rbmlib.deep.training import SGDConfig, lr_at_epoch, masked_sgd

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Large weight decay and momentum so that a leaking mask is visible after few steps.
CFG = SGDConfig(epochs=10, lr=0.1, batch_size=16, momentum=0.9, weight_decay=5e-2)


def _setup(seed: int):
    g = torch.Generator().manual_seed(seed)
    data = TensorSet(
        torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8, generator=g), torch.randint(0, 3, (64,), generator=g), 3
    )
    model = build_model(
        ModelSpec("cnn", width=4), in_channels=1, image_size=8, num_classes=3, mean=(0.5,), std=(0.3,), generator=g
    )
    scores = {n: torch.rand(p.shape, generator=g) for n, p in model.named_parameters()}
    return data, model, top_k_mask(scores, round(0.3 * sum(s.numel() for s in scores.values())))


def _stream(data, seed):
    g = torch.Generator().manual_seed(seed)
    return lambda epoch: ((x, y, 1.0) for x, y in iterate_batches(data, CFG.batch_size, generator=g))


def test_hard_mask_keeps_frozen_weights_bit_identical_through_momentum_and_decay(seed):
    data, model, mask = _setup(seed)
    trained = masked_sgd(model, _stream(data, seed), cfg=CFG, mask=mask)
    before, after = dict(model.named_parameters()), dict(trained.named_parameters())
    for name, m in mask.items():
        assert torch.equal(after[name].detach()[~m], before[name].detach()[~m]), name
    moved = sum(int((after[n].detach()[m] != before[n].detach()[m]).sum()) for n, m in mask.items())
    assert moved > 0.9 * sum(int(m.sum()) for m in mask.values())


def test_leaky_mask_lets_weight_decay_move_frozen_weights(seed):
    data, model, mask = _setup(seed)
    trained = masked_sgd(model, _stream(data, seed), cfg=CFG, mask=mask, leaky=True)
    before, after = dict(model.named_parameters()), dict(trained.named_parameters())
    frozen_nonzero = [(after[n].detach()[~m] != before[n].detach()[~m]) for n, m in mask.items()]
    changed = torch.cat(frozen_nonzero).float().mean()
    assert changed > 0.9  # decay shrinks every non-zero frozen weight


def test_engine_does_not_modify_its_input_model(seed):
    data, model, mask = _setup(seed)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    masked_sgd(model, _stream(data, seed), cfg=CFG, mask=mask)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(("policy", "unchanged"), [("freeze", True), ("update", False)])
def test_batchnorm_running_stats_follow_the_policy(policy, unchanged):
    data, model, mask = _setup(0)
    trained = masked_sgd(
        model, _stream(data, 0), cfg=SGDConfig(epochs=1, lr=0.1, batch_size=16, bn_stats=policy), mask=mask
    )
    buffers = [n for n, _ in model.named_buffers() if "running" in n]
    same = [torch.equal(model.get_buffer(n), trained.get_buffer(n)) for n in buffers]
    assert all(same) is unchanged


def test_mask_with_wrong_names_is_rejected():
    data, model, mask = _setup(0)
    mask.pop(next(iter(mask)))
    with pytest.raises(ValueError, match="mask and model disagree"):
        masked_sgd(model, _stream(data, 0), cfg=CFG, mask=mask)


def test_step_schedule_multiplies_by_gamma_at_each_milestone():
    cfg = SGDConfig(epochs=182, lr=0.1, milestones=(91, 136))
    assert [lr_at_epoch(cfg, e) for e in (0, 90, 91, 135, 136, 181)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    )


def test_sgd_config_rejects_negative_values():
    with pytest.raises(ValueError, match="must be >= 0"):
        SGDConfig(epochs=1, lr=-0.1)
    with pytest.raises(ValueError, match="bn_stats"):
        SGDConfig(epochs=1, lr=0.1, bn_stats="train")
