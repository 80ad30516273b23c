"""Files on disk: atomic writes, named random streams, and the run's provenance (Chapter 6).

Every result file is written to a temporary file in the same folder and moved into place with
:func:`os.replace`, which is atomic on POSIX and Windows: a reader (or a resumed run) sees either
the old file or the complete new one, never a half-written file.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "STREAMS",
    "atomic_write_bytes",
    "atomic_write_json",
    "environment_info",
    "stream_seed",
    "torch_generator",
]

#: Named random streams of one run seed; the position in this tuple is part of the stream's seed,
#: so adding a stream at the end never changes the others.
STREAMS: tuple[str, ...] = ("forget", "init", "original", "retrain", "unlearn")


def stream_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for one named stream of run ``seed``.

    Uses :class:`numpy.random.SeedSequence` with entropy ``(seed, index of stream)``, so streams of
    one run and runs of different seeds are independent (style: keep the stream tree wide).
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; expected one of {STREAMS}")
    state = np.random.SeedSequence([int(seed), STREAMS.index(stream)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def torch_generator(seed: int, stream: str) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded by :func:`stream_seed`."""
    return torch.Generator().manual_seed(stream_seed(seed, stream))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def _git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment_info(device: str) -> dict[str, Any]:
    """Package versions, git revision (``None`` outside a checkout) and device of this run."""
    if device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(torch.device(device))
    else:
        device_name = platform.processor() or platform.machine()
    return {
        "python": sys.version.split()[0],
        "packages": {d: _version(d) for d in ("torch", "torchvision", "numpy", "scikit-learn",
                                                "mlxtend", "pandas", "rbmlib")},
        "git_revision": _git_revision(),
        "device": device,
        "device_name": device_name,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
