"""Networks for the deep-unlearning experiments, initialised from an explicit generator (Chapter 6).

Two architectures:

* ``"cnn"`` -- :class:`SmallCNN`, two 3x3 convolutions with BatchNorm (the first with stride 2,
  followed by a 2x2 max-pool, so the second works at a quarter of the input resolution) and a
  linear head. At width 12 it has about 15k weights and trains an epoch of mnist5k in about a
  tenth of a second on one CPU core; it also fits sklearn's 8x8 digits.
* ``"resnet18"`` -- torchvision's ResNet-18 with the CIFAR stem the field uses for 32x32 images
  (3x3 ``conv1`` with stride 1, no max-pool).

Both start with a :class:`Normalize` layer (per-channel mean and standard deviation of the
training pool), so the models take images in ``[0, 1]``.

Models are built on PyTorch's ``meta`` device (no memory, no random numbers) and then
initialised by :func:`init_parameters` with a caller-supplied :class:`torch.Generator`: nothing
reads or advances PyTorch's global random state. The schemes are torchvision's ResNet choices
(Kaiming-normal, fan-out, for convolutions; ones/zeros for BatchNorm) and PyTorch's default for
linear layers.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

if TYPE_CHECKING:
    from rbmlib.deep.datasets import ImageData

__all__ = ["ModelSpec", "Normalize", "SmallCNN", "build_for_data", "build_model", "init_parameters", "reinitialized"]


@dataclass(frozen=True)
class ModelSpec:
    """Which network to build.

    Attributes
    ----------
    arch : {"cnn", "resnet18"}
        :class:`SmallCNN` or the CIFAR-stem ResNet-18.
    width : int
        Channels of the first convolution of :class:`SmallCNN` (the second has twice as many);
        ignored by ``"resnet18"``.
    """

    arch: Literal["cnn", "resnet18"] = "cnn"
    width: int = 16


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, with the statistics stored as buffers."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class SmallCNN(nn.Module):
    """conv3x3/2 - BN - ReLU - maxpool2 - conv3x3 - BN - ReLU - linear.

    Parameters
    ----------
    in_channels, image_size, num_classes : int
        Input channels, input height (= width) and number of classes.
    width : int
        Channels of the first convolution.
    """

    def __init__(self, in_channels: int, image_size: int, num_classes: int, width: int) -> None:
        super().__init__()
        side = math.ceil(image_size / 2) // 2  # stride-2 conv (padding 1), then 2x2 max-pool
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for SmallCNN (needs >= 3)")
        self.normalize = Normalize(in_channels)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        self.fc = nn.Linear(2 * width * side * side, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(self.normalize(x)))


def _cifar_resnet18(in_channels: int, num_classes: int) -> nn.Module:
    from torchvision.models import resnet18

    net = resnet18(weights=None, num_classes=num_classes)
    # CIFAR stem: a 7x7/2 conv and a max-pool would shrink 32x32 inputs to 8x8 before layer1.
    net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return nn.Sequential(Normalize(in_channels), net)


@torch.no_grad()
def init_parameters(model: nn.Module, *, generator: torch.Generator) -> None:
    """Initialise every parameter and buffer of ``model`` in place from ``generator``.

    Used on freshly built (never on caller-owned) models; :func:`reinitialized` is the pure
    version. Raises ``TypeError`` for a module type it does not know, so no weight is ever left
    uninitialised.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.fill_(1.0)
            module.bias.zero_()
            module.reset_running_stats()
        elif isinstance(module, nn.Linear):
            # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
            bound = 1.0 / math.sqrt(module.in_features)
            nn.init.uniform_(module.weight, -bound, bound, generator=generator)
            if module.bias is not None:
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif list(module.parameters(recurse=False)) and not isinstance(module, Normalize):
            raise TypeError(f"init_parameters does not know how to initialise {type(module).__name__}")


def build_model(
    spec: ModelSpec,
    *,
    in_channels: int,
    image_size: int,
    num_classes: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    generator: torch.Generator,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Build and initialise a network.

    Parameters
    ----------
    spec : ModelSpec
        Architecture and width.
    in_channels, image_size, num_classes : int
        Input shape and output size, read from the dataset.
    mean, std : tuple of float
        Per-channel input statistics (length ``in_channels``).
    generator : torch.Generator
        CPU generator for the initial weights; the same generator state gives the same weights on
        every device.
    device : str or torch.device
        Where the returned model lives.

    Returns
    -------
    torch.nn.Module
        A model in training mode, mapping ``(B, C, H, W)`` images in ``[0, 1]`` to
        ``(B, num_classes)`` logits.
    """
    if len(mean) != in_channels or len(std) != in_channels:
        raise ValueError(f"mean/std need {in_channels} entries, got {len(mean)} and {len(std)}")
    with torch.device("meta"):
        if spec.arch == "cnn":
            net: nn.Module = SmallCNN(in_channels, image_size, num_classes, spec.width)
        elif spec.arch == "resnet18":
            net = _cifar_resnet18(in_channels, num_classes)
        else:
            raise ValueError(f"unknown architecture {spec.arch!r}; expected 'cnn' or 'resnet18'")
    net = net.to_empty(device="cpu")
    init_parameters(net, generator=generator)
    for module in net.modules():
        if isinstance(module, Normalize):
            module.mean.copy_(torch.tensor(mean).view(1, -1, 1, 1))
            module.std.copy_(torch.tensor(std).view(1, -1, 1, 1))
    return net.to(device)


def build_for_data(
    spec: ModelSpec, data: ImageData, *, generator: torch.Generator, device: str | torch.device = "cpu"
) -> nn.Module:
    """:func:`build_model` for ``data``: its image shape, its classes, and the per-channel mean and
    standard deviation of its training pool as the input normalisation."""
    return build_model(
        spec,
        in_channels=data.x.shape[1],
        image_size=data.x.shape[2],
        num_classes=data.num_classes,
        mean=data.mean,
        std=data.std,
        generator=generator,
        device=device,
    )


def reinitialized(model: nn.Module, *, generator: torch.Generator) -> nn.Module:
    """A copy of ``model`` with fresh weights from ``generator`` (input statistics kept)."""
    device = next(model.parameters()).device
    fresh = copy.deepcopy(model).cpu()
    init_parameters(fresh, generator=generator)
    return fresh.to(device)
