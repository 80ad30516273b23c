"""Models: CIFAR stem, explicit-generator initialisation, no global random state (rbmlib.deep.models)."""

from __future__ import annotations

import pytest
import torch

from rbmlib.deep.models import ModelSpec, Normalize, build_model, reinitialized

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _build(spec, seed, **kw):
    shape = dict(in_channels=3, image_size=32, num_classes=10, mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.2))
    shape.update(kw)
    return build_model(spec, generator=torch.Generator().manual_seed(seed), **shape)


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_resnet18_has_the_cifar_stem_and_maps_32x32_to_logits():
    net = _build(ModelSpec("resnet18"), 0)
    resnet = net[1]
    assert resnet.conv1.kernel_size == (3, 3) and resnet.conv1.stride == (1, 1)
    assert isinstance(resnet.maxpool, torch.nn.Identity) and resnet.fc.out_features == 10
    with torch.no_grad():
        assert net.eval()(torch.rand(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize(("size", "width"), [(28, 16), (8, 8)])
def test_small_cnn_fits_mnist_and_digits_sizes(size, width):
    net = _build(ModelSpec("cnn", width=width), 0, in_channels=1, image_size=size, mean=(0.1,), std=(0.3,))
    with torch.no_grad():
        assert net.eval()(torch.rand(3, 1, size, size)).shape == (3, 10)


def test_initialisation_depends_only_on_the_generator_and_leaves_global_rng_alone(seed):
    state = torch.random.get_rng_state()
    a, b = _build(ModelSpec("cnn"), seed), _build(ModelSpec("cnn"), seed)
    assert torch.equal(state, torch.random.get_rng_state())
    assert _same(a, b) and not _same(a, _build(ModelSpec("cnn"), seed + 1))


def test_normalisation_statistics_are_stored_and_kept_by_reinitialisation():
    net = _build(ModelSpec("cnn"), 0)
    fresh = reinitialized(net, generator=torch.Generator().manual_seed(5))
    norm = next(m for m in fresh.modules() if isinstance(m, Normalize))
    assert norm.mean.flatten().tolist() == pytest.approx([0.5, 0.4, 0.3])
    assert not _same(net, fresh)
    assert _same(fresh, reinitialized(net, generator=torch.Generator().manual_seed(5)))


def test_bad_model_arguments_raise():
    with pytest.raises(ValueError, match="unknown architecture"):
        _build(ModelSpec("vgg"), 0)
    with pytest.raises(ValueError, match="mean/std need 3 entries"):
        _build(ModelSpec("cnn"), 0, mean=(0.5,))
