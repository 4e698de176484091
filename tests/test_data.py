"""meliso.data: MNIST IDX and CIFAR-10 readers (no PyTorch needed). Malformed and booby-trapped
files are refused with a clear error, and nothing in them runs."""

import gzip
import os
import pickle

import numpy as np
import pytest

from meliso import ParameterError
from meliso.data import load_dataset
from meliso.data.cifar import read_python_batch
from meliso.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx


def _idx(magic, dims, payload):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def _write_mnist(root, n_train=2, n_test=2, labels=(3, 7), n_labels=None, gz=True):
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.arange(n * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(n, 28, 28)
        blob = _idx(IMAGES_MAGIC, (n, 28, 28), images.tobytes())
        name = root / f"{prefix}-images-idx3-ubyte"
        if gz:
            (root / f"{name.name}.gz").write_bytes(gzip.compress(blob))
        else:
            name.write_bytes(blob)
        k = n if n_labels is None else n_labels
        lab = bytes((list(labels) * k)[:k])
        (root / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(LABELS_MAGIC, (k,), lab))


class Trap:
    """Unpickling this runs a shell command that creates ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_mnist_idx_round_trip(tmp_path):
    _write_mnist(tmp_path)
    np.testing.assert_array_equal(read_idx(tmp_path / "t10k-labels-idx1-ubyte", LABELS_MAGIC),
                                  [3, 7])
    mnist = load_dataset("mnist", tmp_path)
    assert mnist.x_train.shape == (2, 1, 28, 28) and list(mnist.y_test) == [3, 7]
    assert mnist.x_train[0, 0, 0, 5] == pytest.approx(5 / 255)


@pytest.mark.parametrize("breakage, message", [
    ("count", "holds 2 images but .* holds 3 labels"),
    ("label", "label 12: allowed labels 0 ... 9"),
    ("magic", "magic number 0x00000801, expected 0x00000803"),
    ("truncated", "header says"),
    ("gzip", "not a valid gzip file"),
])
def test_malformed_mnist_is_refused(tmp_path, breakage, message):
    _write_mnist(tmp_path, n_labels=3 if breakage == "count" else None,
                 labels=(3, 12) if breakage == "label" else (3, 7))
    images = tmp_path / "train-images-idx3-ubyte.gz"
    if breakage == "magic":  # a labels file where the images belong
        images.write_bytes(gzip.compress(_idx(LABELS_MAGIC, (2,), b"\x01\x02")))
    elif breakage == "truncated":
        images.write_bytes(gzip.compress(_idx(IMAGES_MAGIC, (2, 28, 28), b"\x00" * 100)))
    elif breakage == "gzip":
        images.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ParameterError, match=message):
        load_dataset("mnist", tmp_path)


def _cifar_python(root, n=3, batch=None):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    for stem in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        content = batch if batch is not None else {
            b"batch_label": b"training batch", b"filenames": [b"a.png"] * n,
            b"data": np.full((n, 3072), 7, np.uint8), b"labels": list(range(n))}
        (folder / stem).write_bytes(pickle.dumps(content, protocol=2))  # as the release
    return folder


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_python_release_reads_every_pickle_protocol(tmp_path, protocol):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [4, 9]},
                                  protocol=protocol))
    data, labels = read_python_batch(path)
    assert data.shape == (2, 3072) and list(labels) == [4, 9]


def test_cifar_python_and_binary_releases(tmp_path):
    _cifar_python(tmp_path)
    data = load_dataset("cifar10", tmp_path)
    assert data.x_train.shape == (15, 3, 32, 32) and data.shape == (3, 32, 32)
    assert data.x_train.max() == pytest.approx(7 / 255)
    binary = tmp_path / "bin" / "cifar-10-batches-bin"
    binary.mkdir(parents=True)
    record = np.zeros((2, 3073), np.uint8)
    record[:, 0] = [1, 8]
    record[1, 1:1025] = 255  # the red plane of the second image
    for stem in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        (binary / f"{stem}.bin").write_bytes(record.tobytes())
    data = load_dataset("cifar10", binary.parent)
    assert list(data.y_test) == [1, 8] and data.x_test.shape == (2, 3, 32, 32)
    assert data.x_test[1, 0].min() == 1.0 and data.x_test[1, 1].max() == 0.0
    (binary / "test_batch.bin").write_bytes(record.tobytes()[:-5])
    with pytest.raises(ParameterError, match="whole records of 3073 bytes"):
        load_dataset("cifar10", binary.parent)


def test_booby_trapped_cifar_batch_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    _cifar_python(tmp_path, batch={b"data": Trap(marker), b"labels": [0]})
    with pytest.raises(ParameterError, match=r"refused to load posix\.system"):
        load_dataset("cifar10", tmp_path)
    assert not marker.exists()
    # the check is on what the pickle names, not on where it sits in the file
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps(Trap(marker)))
    with pytest.raises(ParameterError, match="refused"):
        read_python_batch(tmp_path / "cifar-10-batches-py" / "test_batch")
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    ({b"data": np.zeros((2, 3072), np.float64), b"labels": [0, 1]}, "uint8"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "allowed 0 ... 9"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "one per image"),
    ([1, 2, 3], "not a CIFAR-10 python batch"),
])
def test_malformed_cifar_batches(tmp_path, content, message):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(ParameterError, match=message):
        read_python_batch(path)


def test_missing_folders_say_where_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data-dir"):
        load_dataset("mnist")
    with pytest.raises(FileNotFoundError, match=r"cifar-10-binary\.tar\.gz"):
        load_dataset("cifar10", tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="allowed digits, mnist5k, mnist, cifar10"):
        load_dataset("imagenet")


class CalledNdarray:
    """Pickles as ``numpy.ndarray(shape, uint8, b"\\x00", 0, strides)``: with zero strides, one
    byte of the file would pose as ``shape`` (e.g. 10**9 images)."""

    def __init__(self, shape, strides):
        self.shape, self.strides = shape, strides

    def __reduce__(self):
        return (np.ndarray, (self.shape, np.dtype(np.uint8), b"\x00", 0, self.strides))


class BigReconstruct:
    """Pickles as NumPy's ``_reconstruct(ndarray, shape, b"b")``, which allocates ``shape``."""

    def __init__(self, shape):
        self.shape = shape

    def __reduce__(self):
        reconstruct = np.zeros(1).__reduce__()[0]
        return (reconstruct, (np.ndarray, self.shape, b"b"))


def test_cifar_batch_cannot_call_ndarray_to_fake_a_huge_array(tmp_path):
    path = tmp_path / "batch"
    blob = pickle.dumps({b"data": CalledNdarray((10**9, 3072), (0, 0)), b"labels": [0]},
                        protocol=2)
    assert len(blob) < 300  # a few hundred bytes posing as 3 TB of images
    path.write_bytes(blob)
    with pytest.raises(ParameterError, match=r"numpy\.ndarray may only be named as the class"):
        read_python_batch(path)


def test_cifar_batch_reconstructor_refuses_a_preallocated_shape(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": BigReconstruct((10**6, 3072)), b"labels": [0]},
                                  protocol=2))
    with pytest.raises(ParameterError, match=r"shape \(1000000, 3072\): allowed \(0,\)"):
        read_python_batch(path)


@pytest.mark.parametrize("count, message", [
    (1000, r"claims 1000 images but the file holds \d+ bytes"),
    (2, "does not hold its own contiguous data"),
])
def test_cifar_batch_arrays_must_fit_the_file_and_own_their_data(tmp_path, monkeypatch,
                                                                 count, message):
    """Whatever the unpickler returns, the images are bounded by the file and must be real
    memory, not a zero-stride view over a single byte."""
    from meliso.data import cifar

    view = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), (count, 3072), (0, 0))
    monkeypatch.setattr(cifar.BatchUnpickler, "load",
                        lambda self: {b"data": view, b"labels": [0] * count})
    path = tmp_path / "batch"
    path.write_bytes(b"\x00" * 10_000)
    with pytest.raises(ParameterError, match=message):
        read_python_batch(path)
