"""Atomic writes, content-addressed verified artifacts, per-artifact locks, named streams, provenance."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rbmlib.deep import artifacts
from rbmlib.deep.artifacts import (
    MANIFEST,
    STREAMS,
    ArtifactError,
    artifact_lock,
    atomic_write_bytes,
    atomic_write_json,
    canonical_json,
    commit_artifact,
    config_key,
    environment_info,
    file_sha256,
    stream_seed,
    torch_generator,
    verify_artifact,
)

CONFIG = {"dataset": "digits", "seed": 3, "lr": 0.01, "methods": ["ft", "rbm"]}


def test_streams_are_distinct_63_bit_seeds_fixed_by_seed_and_name():
    seeds = {(s, name): stream_seed(s, name) for s in range(4) for name in STREAMS}
    assert len(set(seeds.values())) == len(seeds)
    assert all(0 <= v < 2**63 for v in seeds.values())
    assert stream_seed(2, "init") == seeds[(2, "init")]  # a pure function of (seed, name)
    with pytest.raises(ValueError, match="unknown random stream 'shuffle'"):
        stream_seed(0, "shuffle")


def test_torch_generators_of_one_stream_agree_and_of_two_streams_differ():
    a, b, c = torch_generator(0, "forget"), torch_generator(0, "forget"), torch_generator(0, "init")
    draws = [torch.rand(5, generator=g) for g in (a, b, c)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])


def test_equal_configurations_give_equal_text_and_keys():
    shuffled = dict(reversed(list(CONFIG.items())))
    assert canonical_json(shuffled) == canonical_json(CONFIG) == json.dumps(CONFIG, sort_keys=True).replace(" ", "")
    assert config_key(shuffled) == config_key(CONFIG)
    assert config_key(CONFIG) == hashlib.sha256(canonical_json(CONFIG).encode()).hexdigest()
    assert config_key({**CONFIG, "lr": 0.02}) != config_key(CONFIG)
    with pytest.raises(ValueError):
        canonical_json({"lr": math.nan})  # NaN has no canonical JSON


def test_file_sha256_reads_files_larger_than_its_block(tmp_path):
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".tmp" in p.name)


def test_atomic_writes_replace_the_whole_file_and_leave_no_temporary(tmp_path):
    path = tmp_path / "sub" / "results.json"
    atomic_write_json(path, {"b": 1, "a": [1, 2]})
    assert path.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and _leftovers(path.parent) == []


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    atomic_write_bytes(path, b"old")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_json_without_a_finite_number_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", {"gap": math.inf})
    assert list(tmp_path.iterdir()) == []


def _write_model(tmp: Path) -> None:
    (tmp / "model.pt").write_bytes(b"weights" * 100)
    (tmp / "log").mkdir()
    (tmp / "log" / "train.txt").write_text("epoch 1\n")


def test_a_committed_artifact_verifies_and_records_every_file(tmp_path):
    path = tmp_path / f"original-{config_key(CONFIG)}"
    assert verify_artifact(path, kind="original", config=CONFIG) is False
    commit_artifact(path, _write_model, kind="original", config=CONFIG)
    assert verify_artifact(path, kind="original", config=CONFIG) is True
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["kind"] == "original" and manifest["config"] == CONFIG
    assert manifest["files"] == {
        "log/train.txt": hashlib.sha256(b"epoch 1\n").hexdigest(),
        "model.pt": hashlib.sha256(b"weights" * 100).hexdigest(),
    }
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "model.pt").write_bytes(b"weights"), "model.pt does not match its recorded SHA-256"),
        (lambda p: (p / "log" / "train.txt").unlink(), "missing its file log/train.txt"),
        (lambda p: (p / MANIFEST).unlink(), f"without a readable {MANIFEST}"),
        (lambda p: (p / MANIFEST).write_text("{not json"), f"without a readable {MANIFEST}"),
    ],
)
def test_a_damaged_artifact_is_an_error_naming_the_folder(tmp_path, damage, message):
    path = tmp_path / "split-abc"
    commit_artifact(path, _write_model, kind="split", config=CONFIG)
    damage(path)
    with pytest.raises(ArtifactError, match=message) as err:
        verify_artifact(path, kind="split", config=CONFIG)
    assert str(path) in str(err.value) and "delete that folder and rerun" in str(err.value)


def test_an_artifact_of_another_kind_or_configuration_is_refused(tmp_path):
    path = tmp_path / "cell-abc"
    commit_artifact(path, _write_model, kind="cell", config=CONFIG)
    with pytest.raises(ArtifactError, match="not the split this configuration needs"):
        verify_artifact(path, kind="split", config=CONFIG)
    with pytest.raises(ArtifactError, match="records another configuration"):
        verify_artifact(path, kind="cell", config={**CONFIG, "seed": 4})


def test_a_failed_commit_leaves_nothing_and_a_later_one_clears_stale_attempts(tmp_path):
    path = tmp_path / "cell-xyz"

    def crash(tmp: Path) -> None:
        (tmp / "model.pt").write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        commit_artifact(path, crash, kind="cell", config=CONFIG)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / ".cell-xyz.tmp-from-a-killed-process").mkdir()  # what a SIGKILL leaves behind
    commit_artifact(path, _write_model, kind="cell", config=CONFIG)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell-xyz"]


def test_the_artifact_lock_excludes_a_second_holder(tmp_path):
    key = config_key(CONFIG)
    lock = artifact_lock(tmp_path, key)
    assert Path(lock.lock_file) == tmp_path / ".locks" / f"{key[:32]}.lock"
    # Another process must wait: fcntl locks are per process, so the contender runs in a child.
    contender = (
        "import sys\nfrom filelock import FileLock, Timeout\n"
        "try:\n    FileLock(sys.argv[1]).acquire(timeout=0)\nexcept Timeout:\n    sys.exit(3)\nsys.exit(0)"
    )
    with lock:
        held = subprocess.run([sys.executable, "-c", contender, lock.lock_file], check=False)
    free = subprocess.run([sys.executable, "-c", contender, lock.lock_file], check=False)
    assert (held.returncode, free.returncode) == (3, 0)


def test_environment_info_describes_this_process():
    info = environment_info("cpu")
    assert info["python"] == sys.version.split()[0] and info["device"] == "cpu"
    assert info["packages"]["numpy"] == np.__version__
    assert info["packages"]["torch"] == torch.__version__.split("+")[0]  # the distribution's version, no local tag
    assert info["torch_threads"] == torch.get_num_threads()
    assert set(info) == {
        "python",
        "packages",
        "git_revision",
        "device",
        "device_name",
        "torch_threads",
        "platform",
        "host",
    }
    assert info["git_revision"] is None or len(info["git_revision"]) == 40
