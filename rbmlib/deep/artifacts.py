"""Files on disk: atomic, content-addressed, verified artifacts; named random streams; provenance.

Three guarantees hold for every file the deep runner writes (Chapter 6):

* **Atomic.** A file is written to a temporary name in the same folder and moved into place with
  :func:`os.replace` (atomic on POSIX and Windows); an artifact made of several files (a model and
  its metadata, a split and its hash) is written into a temporary folder that is renamed into
  place in one step (:func:`commit_artifact`). A reader sees the whole artifact or nothing.
* **Content-addressed and verified.** An artifact's folder name ends in :func:`config_key`, the
  SHA-256 of the canonical JSON of everything that determines it; its ``artifact.json`` manifest
  records that configuration and the SHA-256 of every file. :func:`verify_artifact` checks both
  on every load, so a stale, foreign, truncated or hand-edited file is never used: it is an
  :class:`ArtifactError` naming the path and the fix.
* **Created once.** :func:`artifact_lock` is a :class:`filelock.FileLock` per artifact key: of
  several processes (runs, Ray workers, SLURM jobs) that need the same artifact, one computes it
  while the others wait and then load it.

Files are created with the permissions the umask allows (``0o666 & ~umask``, folders
``0o777 & ~umask``), not the ``0o600`` of :func:`tempfile.mkstemp`.

:func:`_on_write` is called before and after every rename into place; it does nothing. It exists
so that the fault-injection tests (``tests/test_deep_faults.py``) can kill a process at every
write point in turn.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock

__all__ = [
    "MANIFEST",
    "STREAMS",
    "ArtifactError",
    "artifact_lock",
    "atomic_write_bytes",
    "atomic_write_json",
    "canonical_json",
    "commit_artifact",
    "config_key",
    "environment_info",
    "file_sha256",
    "stream_seed",
    "torch_generator",
    "verify_artifact",
]

#: Named random streams of one run seed; the position in this tuple is part of the stream's seed,
#: so adding a stream at the end never changes the others.
STREAMS: tuple[str, ...] = ("forget", "init", "original", "retrain", "unlearn")

#: Name of the manifest inside every artifact folder.
MANIFEST = "artifact.json"


class ArtifactError(ValueError):
    """A stored artifact is damaged, foreign, or cannot be written; the message names the fix."""


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


def canonical_json(obj: Any) -> str:
    """Key-sorted, compact JSON: equal configurations give equal text (and equal keys)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_key(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``config``: the address of its artifact."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    # /proc gives the umask without changing it; os.umask(x) changes it process-wide for a moment,
    # which races with other threads (Ray's driver has several).
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _on_write(stage: str, path: Path) -> None:
    """Called with ``stage`` ``"before"``/``"after"`` around every rename into place (a test seam)."""


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
        os.chmod(tmp, 0o666 & ~_umask())
        _on_write("before", path)
        os.replace(tmp, path)
        _on_write("after", path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON (no ``NaN``/``Infinity``), atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n").encode())


def artifact_lock(root: Path, key: str) -> FileLock:
    """The lock that guards the creation of artifact ``key`` under output folder ``root``.

    Lock files live in ``<root>/.locks/``; :mod:`filelock` uses ``fcntl`` locks, which the
    operating system releases when a process dies (a killed run never leaves a stale lock).
    """
    folder = Path(root) / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / f"{key[:32]}.lock"), mode=0o666 & ~_umask())


def _damaged(path: Path, reason: str) -> ArtifactError:
    return ArtifactError(
        f"stored artifact {path} is {reason}; delete that folder and rerun to recompute it (it is never used as it is)"
    )


def verify_artifact(path: Path, *, kind: str, config: Mapping[str, Any]) -> bool:
    """Whether the artifact folder ``path`` exists, checking it completely when it does.

    Parameters
    ----------
    path : Path
        The artifact's folder (its name ends in ``config_key(config)``).
    kind : str
        What it holds (``"split"``, ``"original"``, ...); part of the check.
    config : Mapping
        Everything that determines the artifact; must equal the recorded configuration.

    Returns
    -------
    bool
        ``False`` when there is no such folder; ``True`` when it exists and every check passes.

    Raises
    ------
    ArtifactError
        The folder exists but its manifest is missing or unreadable, records another kind or
        configuration, or a file is missing or its SHA-256 differs (a truncated or edited file).
    """
    path = Path(path)
    if not path.exists():
        return False
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise _damaged(path, f"without a readable {MANIFEST} ({type(err).__name__})") from None
    if manifest.get("kind") != kind or manifest.get("config") != json.loads(canonical_json(config)):
        raise _damaged(path, f"not the {kind} this configuration needs (its {MANIFEST} records another configuration)")
    for name, digest in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            raise _damaged(path, f"missing its file {name}")
        if file_sha256(file) != digest:
            raise _damaged(path, f"damaged: {name} does not match its recorded SHA-256 (truncated or edited)")
    return True


def commit_artifact(path: Path, write: Callable[[Path], None], *, kind: str, config: Mapping[str, Any]) -> None:
    """Create the artifact folder ``path`` as one atomic unit.

    ``write(tmp)`` fills a fresh temporary folder beside ``path``; the manifest (kind,
    configuration, SHA-256 of every file) is added and the folder is renamed to ``path``. Call it
    while holding :func:`artifact_lock` for the artifact's key; leftovers of killed attempts
    (``.<name>.tmp*`` folders beside ``path``) are removed first, which is safe under the lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.tmp*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp"))
    try:
        write(tmp)
        files = {}
        for file in sorted(p for p in tmp.rglob("*") if p.is_file()):
            os.chmod(file, 0o666 & ~_umask())
            files[file.relative_to(tmp).as_posix()] = file_sha256(file)
        manifest = {"kind": kind, "config": json.loads(canonical_json(config)), "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp / MANIFEST, 0o666 & ~_umask())
        for file in (p for p in tmp.rglob("*") if p.is_file()):  # a sub-folder cannot be opened "rb"
            with file.open("rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o777 & ~_umask())
        _on_write("before", path)
        os.rename(tmp, path)  # atomic; fails if ``path`` exists, which the lock rules out
        _on_write("after", path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment_info(device: str) -> dict[str, Any]:
    """Package versions, git revision (``None`` outside a checkout) and device of this process."""
    if device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(torch.device(device))
    else:
        device_name = platform.processor() or platform.machine()
    return {
        "python": sys.version.split()[0],
        "packages": {
            d: _version(d) for d in ("torch", "torchvision", "numpy", "scikit-learn", "mlxtend", "pandas", "rbmlib")
        },
        "git_revision": _git_revision(),
        "device": device,
        "device_name": device_name,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "host": platform.node(),
    }
