"""Throughput of one CIFAR-10-shaped ResNet-18 FT epoch through rbmlib's masked-SGD engine.

Synthetic stand-in data (random 32x32 RGB images, 10 classes) replace CIFAR-10, so the benchmark
needs no download; the work per image is the real one: CIFAR-stem ResNet-18, batch 256, SGD
momentum 0.9, weight decay 5e-4, lr 0.01 (SalUn's FT setting), crop + flip augmentation. A short
warm-up (cuDNN autotuning, allocator) runs first and is not timed.

Usage::

    python benchmarks/bench_resnet_epoch.py --device cuda [--images 50000] [--amp] [--channels-last]
    python benchmarks/bench_resnet_epoch.py --device cpu --images 512      # smoke run

Prints one JSON object with ``images_per_s``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import torch

from rbmlib.deep.batches import TensorSet
from rbmlib.deep.models import ModelSpec, build_model
from rbmlib.deep.recipes import default_recipe
from rbmlib.deep.training import fit


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--warmup-images", type=int, default=None, help="images of the untimed warm-up pass (default: 8 batches)"
    )
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--channels-last", action="store_true", help="channels-last weights")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (CPU)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    n = max(args.images, args.warmup_images or 8 * args.batch_size)
    data = TensorSet(
        torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g).to(device),
        torch.randint(0, 10, (n,), generator=g).to(device),
        10,
    )
    model = build_model(
        ModelSpec("resnet18"),
        in_channels=3,
        image_size=32,
        num_classes=10,
        mean=(0.49, 0.48, 0.45),
        std=(0.25, 0.24, 0.26),
        generator=g,
        device=device,
    )
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    cfg = replace(default_recipe("cifar10").ft.sgd, epochs=1, batch_size=args.batch_size, amp=args.amp)
    warm = args.warmup_images or 8 * args.batch_size
    fit(model, TensorSet(data.x[:warm], data.y[:warm], 10), cfg=cfg, generator=g)
    timed = TensorSet(data.x[: args.images], data.y[: args.images], 10)
    _sync(device)
    start = time.perf_counter()
    fit(model, timed, cfg=cfg, generator=g)
    _sync(device)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "benchmark": "ResNet-18 (CIFAR stem) FT epoch, synthetic 32x32",
                "device": str(device),
                "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "images": args.images,
                "batch_size": args.batch_size,
                "amp": args.amp,
                "channels_last": args.channels_last,
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "seconds": round(seconds, 3),
                "images_per_s": round(args.images / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
