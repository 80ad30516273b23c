"""Datasets: offline sets load, missing files give one actionable error (rbmlib.deep.datasets)."""

from __future__ import annotations

import hashlib
import urllib.error

import numpy as np
import pytest
import torch

from rbmlib.deep import datasets as ds
from rbmlib.deep.datasets import DatasetUnavailableError, load_dataset


def test_offline_datasets_have_expected_shapes_and_classes():
    mnist = load_dataset("mnist5k")
    assert tuple(mnist.x.shape) == (5000, 1, 28, 28) and mnist.x.dtype == torch.uint8
    assert mnist.num_classes == 10 and not mnist.has_official_test
    digits = load_dataset("digits")
    assert tuple(digits.x.shape) == (1797, 1, 8, 8) and int(digits.x.max()) == 255
    assert digits.num_classes == 10


def test_unknown_dataset_and_missing_root_raise_value_error():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="needs a data root"):
        load_dataset("cifar10")


def test_missing_torchvision_dataset_without_download_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("cifar10", root=tmp_path, download=False)
    message = str(err.value)
    assert "cifar-10-python.tar.gz" in message and str(tmp_path) in message
    assert "\n" not in message


def test_failed_download_becomes_one_clear_error_not_a_urlerror(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    class Offline:
        def __init__(self, root, download=False, **kwargs):
            if download:
                raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
            raise RuntimeError("Dataset not found or corrupted.")

    monkeypatch.setattr(tvd, "SVHN", Offline)
    with pytest.raises(DatasetUnavailableError, match="download failed: URLError.*test_32x32.mat"):
        load_dataset("svhn", root=tmp_path, download=True)


def _fake_tiny(root, size=8):
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = ["n02", "n01"]
    (base).mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    rng = np.random.default_rng(0)
    for w in wnids:
        folder = base / "train" / w / "images"
        folder.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{w}_{i}.JPEG")
    (base / "val" / "images").mkdir(parents=True)
    lines = []
    for i, w in enumerate(["n01", "n02", "n01", "n02"]):
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(
            base / "val" / "images" / f"val_{i}.JPEG"
        )
        lines.append(f"val_{i}.JPEG\t{w}\t0\t0\t{size}\t{size}")
    (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return base


def _tree_digest(base):
    h = hashlib.sha256()
    for p in sorted(base.rglob("*")):
        h.update(str(p.relative_to(base)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_tinyimagenet_reads_local_folder_without_modifying_it(tmp_path):
    base = _fake_tiny(tmp_path)
    before = _tree_digest(base)
    data = load_dataset("tinyimagenet", root=tmp_path)
    assert _tree_digest(base) == before
    assert tuple(data.x.shape) == (10, 3, 8, 8) and data.n_pool == 6 and data.num_classes == 2
    # Sorted wnids: n01 -> 0, n02 -> 1; grey validation images become RGB.
    assert data.y[:6].tolist() == [0, 0, 0, 1, 1, 1]
    # SalUn's protocol: per class, half of the validation images validate, half test.
    assert data.n_official_val == 2
    assert data.y[6:8].tolist() == [0, 1] and data.y[8:].tolist() == [0, 1]


def test_tinyimagenet_split_trains_on_the_whole_pool_and_tests_on_held_out_half(tmp_path):
    from rbmlib.deep.splits import SplitConfig, make_split, parse_scenario

    _fake_tiny(tmp_path)
    data = load_dataset("tinyimagenet", root=tmp_path)
    split = make_split(
        data.y.numpy(),
        data.n_pool,
        parse_scenario("random:0.34"),
        dataset=data.name,
        cfg=SplitConfig(),
        rng=np.random.default_rng(0),
        n_official_val=data.n_official_val,
    )
    assert sorted(split.train.tolist()) == list(range(6))  # no validation carved from the pool
    assert split.val.tolist() == [6, 7] and split.test.tolist() == [8, 9]
    assert len(split.forget) == 2


def test_tinyimagenet_missing_folder_says_where_to_get_it(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="tiny-imagenet-200.zip"):
        load_dataset("tinyimagenet", root=tmp_path)


def test_labels_must_be_contiguous():
    with pytest.raises(ValueError, match="labels must be 0..K-1"):
        ds._make("bad", np.zeros((2, 1, 2, 2)), np.array([0, 2]), n_pool=2)
