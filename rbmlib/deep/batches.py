"""In-memory example sets and mini-batches (Chapter 6).

The datasets of this book fit in memory (CIFAR-10 is 150 MB as ``uint8``), so a set of examples is
two tensors on the compute device and a mini-batch is an index gather: no ``DataLoader`` worker
processes, no per-image Python transforms. Shuffling and augmentation draw from an explicit
:class:`torch.Generator`, so a batch stream is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from rbmlib.deep.datasets import ImageData

__all__ = ["Augment", "TensorSet", "augment_batch", "iterate_batches", "take"]

#: ``"none"``; ``"crop"``: random crop after 4-pixel zero padding; ``"crop_flip"``: crop plus a
#: random horizontal flip (the CIFAR recipe).
Augment = Literal["none", "crop", "crop_flip"]

_PAD = 4  # pixels of zero padding before the random crop (SalUn's RandomCrop(32, padding=4))


@dataclass(frozen=True, eq=False)
class TensorSet:
    """A labelled set of images on one device.

    Attributes
    ----------
    x : torch.Tensor
        ``(n, C, H, W)`` ``uint8`` images.
    y : torch.Tensor
        ``(n,)`` ``int64`` labels.
    num_classes : int
        Number of classes of the dataset the set comes from.
    """

    x: torch.Tensor
    y: torch.Tensor
    num_classes: int

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} images but y has {self.y.shape[0]} labels")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def device(self) -> torch.device:
        return self.x.device


def take(data: ImageData, indices: np.ndarray, *, device: str | torch.device = "cpu") -> TensorSet:
    """The examples ``indices`` of ``data`` as a :class:`TensorSet` on ``device`` (a copy)."""
    idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
    return TensorSet(data.x[idx].to(device), data.y[idx].to(device), data.num_classes)


def augment_batch(x: torch.Tensor, mode: Augment, *, generator: torch.Generator) -> torch.Tensor:
    """Random crop (after 4-pixel zero padding) and optional horizontal flip, per image.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, C, H, W)`` float images.
    mode : {"none", "crop", "crop_flip"}
        Which augmentation.
    generator : torch.Generator
        CPU generator for the offsets and flips.
    """
    if mode == "none":
        return x
    b, _, h, w = x.shape
    oy = torch.randint(0, 2 * _PAD + 1, (b,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * _PAD + 1, (b,), generator=generator).to(x.device)
    padded = F.pad(x, (_PAD, _PAD, _PAD, _PAD))
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    bidx = torch.arange(b, device=x.device)[:, None, None, None]
    cidx = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    out = padded[bidx, cidx, rows, cols]  # (B, C, H, W)
    if mode == "crop_flip":
        flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
        out = torch.where(flip[:, None, None, None], out.flip(3), out)
    return out


def iterate_batches(
    data: TensorSet,
    batch_size: int,
    *,
    generator: torch.Generator | None,
    augment: Augment = "none",
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x, y)`` mini-batches: ``x`` float in ``[0, 1]``, ``(B, C, H, W)``; ``y`` ``(B,)``.

    Parameters
    ----------
    data : TensorSet
        The examples.
    batch_size : int
        Examples per batch; the last batch may be smaller (no example is dropped).
    generator : torch.Generator or None
        Shuffles (and augments) when given; ``None`` keeps the stored order, with no augmentation
        allowed (evaluation and saliency passes).
    augment : {"none", "crop", "crop_flip"}
        Training-time augmentation.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if generator is None and augment != "none":
        raise ValueError("augmentation needs a generator")
    n = len(data)
    order = torch.randperm(n, generator=generator).to(data.device) if generator is not None else None
    for start in range(0, n, batch_size):
        if order is None:
            xb, yb = data.x[start : start + batch_size], data.y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            xb, yb = data.x[idx], data.y[idx]
        x = xb.float().div_(255.0)
        if generator is not None:
            x = augment_batch(x, augment, generator=generator)
        yield x, yb
