"""MLP_NeuroSim's input patches: 20 x 20 black-and-white MNIST digits, one row per image.

MLP_NeuroSim V3.0 trains on 20 x 20 patches of the MNIST digits (its ``patch60000_train.txt``),
each pixel truncated to one bit at 0.5 (``IO.cpp``: ``truncate(x, 1, BWthreshold = 0.5)``).
MNIST digits are size-normalised into the central 20 x 20 box of their 28 x 28 frame, so the
patch is that box: the frame cropped by 4 pixels on every side, then thresholded. Pixels are
intensities in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError

#: Datasets whose images are MNIST digits (28 x 28); the patches need that frame.
MNIST_LIKE = ("mnist5k", "mnist")
PATCH_PX = 20


@dataclass(frozen=True)
class Patches:
    """Binarised 20 x 20 patches as rows of 400 zeros and ones (uint8), with labels."""

    x_train: NDArray[np.uint8]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.uint8]
    y_test: NDArray[np.int64]


def binarised_patches(images: NDArray[np.floating], threshold: float = 0.5
                      ) -> NDArray[np.uint8]:
    """(n, 1, 28, 28) or (n, 28, 28) intensities -> (n, 400) pixels of 0 or 1 (x >= 0.5)."""
    arr = np.asarray(images)
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise ParameterError(f"images of shape {arr.shape}: the patches need one channel")
        arr = arr[:, 0]
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise ParameterError(f"images of shape {arr.shape}: the patches need 28 x 28 MNIST "
                             "digits (datasets " + ", ".join(MNIST_LIKE) + ")")
    m = (28 - PATCH_PX) // 2
    crop = arr[:, m:m + PATCH_PX, m:m + PATCH_PX].reshape(len(arr), PATCH_PX * PATCH_PX)
    return (crop >= threshold).astype(np.uint8)


def patches(dataset: str, data_dir: str | None = None) -> Patches:
    """The training and test patches of an MNIST-like dataset (``mnist5k`` bundled: 4000
    training and 1000 test images; ``mnist`` from ``data_dir``: 60 000 and 10 000)."""
    if dataset not in MNIST_LIKE:
        raise ParameterError(f"dataset = {dataset!r}: on-chip learning reads MNIST digits; "
                             f"allowed {', '.join(MNIST_LIKE)}")
    from ..data import load_dataset

    data = load_dataset(dataset, data_dir)
    return Patches(binarised_patches(data.x_train), np.asarray(data.y_train, dtype=np.int64),
                   binarised_patches(data.x_test), np.asarray(data.y_test, dtype=np.int64))


def check_patches(data: Patches) -> None:
    """Refuse patches the trainer cannot read: pixels other than 0 and 1, rows of different
    widths, labels outside 0 ... 9 or not one per image, an empty split."""
    for split in ("train", "test"):
        x = np.asarray(getattr(data, f"x_{split}"))
        y = np.asarray(getattr(data, f"y_{split}"))
        if x.ndim != 2 or x.shape[0] == 0:
            raise ParameterError(f"x_{split} of shape {x.shape}: allowed (images, pixels) with "
                                 "at least one image")
        if y.shape != (x.shape[0],):
            raise ParameterError(f"y_{split} of shape {y.shape}: allowed one label per image "
                                 f"({x.shape[0]})")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
            raise ParameterError(f"y_{split}: allowed integer labels 0 ... 9")
        if not np.all((x == 0) | (x == 1)):
            raise ParameterError(f"x_{split}: allowed pixels 0 and 1 (black and white, "
                                 "binarised_patches)")
    if data.x_test.shape[1] != data.x_train.shape[1]:
        raise ParameterError(f"x_test has {data.x_test.shape[1]} pixels per image, x_train "
                             f"{data.x_train.shape[1]}: allowed the same")
