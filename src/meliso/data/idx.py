"""MNIST's IDX files, read as plain bytes and checked before use.

An IDX file (LeCun et al., "The MNIST database", file-format section) is a 4-byte magic number
``0x00 0x00 <type> <dims>``, then ``dims`` big-endian 32-bit sizes, then the values. MNIST uses
type 0x08 (unsigned byte): images are ``0x00000803`` (count, rows, cols) and labels
``0x00000801`` (count). Nothing here executes anything; every size is checked against the
file before an array is built, and a gzip file is decompressed with a bound on its size.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError

#: Largest decompressed IDX file accepted (full MNIST's training images are 47 MB).
MAX_IDX_BYTES = 1 << 30
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_bounded(path: Path, limit: int = MAX_IDX_BYTES) -> bytes:
    """The bytes of ``path`` (gunzipped if it ends in ``.gz``), refusing more than ``limit``."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read(limit + 1)
        else:
            if path.stat().st_size > limit:
                raise ParameterError(f"{path} holds more than {limit} bytes: not an MNIST file")
            raw = path.read_bytes()
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise ParameterError(f"{path} is not a valid gzip file: {exc}") from None
    if len(raw) > limit:
        raise ParameterError(f"{path} decompresses to more than {limit} bytes: not an MNIST file")
    return raw


def read_idx(path: Path, magic: int) -> NDArray[np.uint8]:
    """The array of an IDX file of unsigned bytes whose magic number must be ``magic``."""
    raw = read_bounded(path)
    if len(raw) < 4:
        raise ParameterError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ParameterError(
            f"{path}: magic number 0x{found:08x}, expected 0x{magic:08x} (MNIST "
            f"{'images' if magic == IMAGES_MAGIC else 'labels'}, unsigned bytes)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ParameterError(f"{path} ends inside its header")
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    if int(np.prod(dims, dtype=np.int64)) != len(raw) - header:
        raise ParameterError(f"{path}: header says {dims} ({int(np.prod(dims))} values), the "
                             f"file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_mnist_pair(images_path: Path, labels_path: Path
                    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Images (N, H, W) and labels (N,) of one MNIST split, checked against each other."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC).astype(np.int64)
    if len(images) != len(labels):
        raise ParameterError(f"{images_path.name} holds {len(images)} images but "
                             f"{labels_path.name} holds {len(labels)} labels: allowed equal "
                             "counts")
    if len(labels) == 0:
        raise ParameterError(f"{labels_path} holds no labels")
    if labels.max() > 9:
        raise ParameterError(f"{labels_path} holds label {int(labels.max())}: allowed labels "
                             "0 ... 9")
    return images, labels
