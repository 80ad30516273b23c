"""In-memory example sets, mini-batch streams and augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rbmlib.deep.batches import TensorSet, augment_batch, iterate_batches, take
from rbmlib.deep.datasets import ImageData

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _set(n: int = 10, size: int = 6) -> TensorSet:
    x = torch.arange(n * 3 * size * size, dtype=torch.int64).remainder(256).to(torch.uint8).reshape(n, 3, size, size)
    return TensorSet(x, torch.arange(n) % 4, num_classes=4)


def test_a_set_needs_one_label_per_image():
    with pytest.raises(ValueError, match="x has 3 images but y has 2 labels"):
        TensorSet(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.zeros(2, dtype=torch.int64), 2)
    data = _set()
    assert len(data) == 10 and data.device == torch.device("cpu")


def test_take_copies_the_chosen_examples():
    x = torch.randint(0, 256, (8, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    data = ImageData("digits", x, torch.arange(8) % 3, n_pool=8, num_classes=3)
    part = take(data, np.array([5, 1, 1]))
    assert torch.equal(part.x, x[[5, 1, 1]]) and part.y.tolist() == [2, 1, 1] and part.num_classes == 3
    part.x[0] += 1  # a copy: the dataset is untouched
    assert torch.equal(data.x, x)


def test_unshuffled_batches_keep_the_stored_order_and_drop_nothing():
    data = _set(n=10)
    batches = list(iterate_batches(data, 4, generator=None))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    x = torch.cat([b for b, _ in batches])
    assert x.dtype == torch.float32 and torch.equal(x, data.x.float() / 255)
    assert torch.equal(torch.cat([y for _, y in batches]), data.y)


def test_shuffled_batches_are_a_permutation_reproducible_from_the_seed():
    data = _set(n=25)

    def order(seed: int) -> list[int]:
        gen = torch.Generator().manual_seed(seed)
        # Each image's first pixel identifies it (values 0..) once scaled back to uint8.
        firsts = [b[:, 0, 0, 0] for b, _ in iterate_batches(data, 7, generator=gen)]
        return torch.round(torch.cat(firsts) * 255).to(torch.int64).tolist()

    ids = data.x[:, 0, 0, 0].to(torch.int64).tolist()
    first = order(0)
    assert sorted(first) == sorted(ids) and first != ids
    assert order(0) == first and order(1) != first


def test_batching_refuses_bad_arguments():
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        next(iterate_batches(_set(), 0, generator=None))
    with pytest.raises(ValueError, match="augmentation needs a generator"):
        next(iterate_batches(_set(), 2, generator=None, augment="crop"))


def _windows(image: torch.Tensor, pad: int = 4) -> list[torch.Tensor]:
    """Every crop of the zero-padded image, by brute force (the check's own construction)."""
    c, h, w = image.shape
    padded = torch.zeros(c, h + 2 * pad, w + 2 * pad)
    padded[:, pad : pad + h, pad : pad + w] = image
    return [padded[:, i : i + h, j : j + w] for i in range(2 * pad + 1) for j in range(2 * pad + 1)]


def test_crop_takes_a_window_of_the_zero_padded_image():
    x = torch.rand(6, 2, 5, 5, generator=torch.Generator().manual_seed(0)) + 0.5  # no zeros inside
    out = augment_batch(x, "crop", generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    for image, crop in zip(x, out):
        assert any(torch.equal(crop, window) for window in _windows(image))
    assert sum(torch.equal(a, b) for a, b in zip(out, x)) < len(x)  # not every crop is the identity


def test_crop_flip_adds_a_horizontal_flip_to_some_images():
    x = torch.rand(32, 1, 5, 5, generator=torch.Generator().manual_seed(2)) + 0.5
    out = augment_batch(x, "crop_flip", generator=torch.Generator().manual_seed(3))
    flipped = 0
    for image, crop in zip(x, out):
        plain = any(torch.equal(crop, w) for w in _windows(image))
        mirrored = any(torch.equal(crop, w.flip(2)) for w in _windows(image))
        assert plain or mirrored
        flipped += mirrored and not plain
    assert 0 < flipped < len(x)


def test_augmentation_is_reproducible_and_none_is_the_identity():
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(4))
    a = augment_batch(x, "crop_flip", generator=torch.Generator().manual_seed(5))
    b = augment_batch(x, "crop_flip", generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert augment_batch(x, "none", generator=torch.Generator()) is x
