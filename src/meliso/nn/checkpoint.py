"""Checkpoints of trained networks: written atomically, read without executing anything.

A checkpoint is one ``torch.save`` file: a dict of plain values (net, quant, input shape,
classes, dataset, epochs, seed, test accuracy, per-epoch losses, seconds, meliso's version) and
the ``state_dict`` of tensors. It is read by :func:`load_checkpoint` alone, with
``torch.load(weights_only=True)``: PyTorch's restricted unpickler, which builds tensors and
plain containers and refuses any other callable, so a crafted file cannot run code. That holds
from PyTorch 2.6 on: up to 2.5.1 a crafted file could run code even with ``weights_only=True``
(CVE-2025-32434), so an older PyTorch is refused before anything is read
(:func:`check_torch_version`). The metadata are then checked field by field before a network
is built from them.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write_bytes
from .._progress import Progress
from .._validation import ParameterError
from ..data import load_dataset
from .float_nets import FLOAT_NETS, FloatNet, build_float_model
from .models import NETS, QuantNet, build_model, check_net
from .quant import QUANTS, check_quant
from .train import TrainResult, check_training, train, train_float

#: Oldest PyTorch whose ``torch.load(weights_only=True)`` runs nothing from the file
#: (CVE-2025-32434 affects every release up to 2.5.1).
MIN_TORCH_VERSION = (2, 6)
#: Metadata every checkpoint carries, with the plain type each must have.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "net": str, "quant": str, "input_shape": list, "classes": int, "dataset": str,
    "epochs": int, "seed": int, "accuracy": float, "losses": list, "seconds": float,
    "meliso": str,
}


def checkpoint_name(net: str, quant: str, dataset: str) -> str:
    """The file name of a checkpoint of ``net`` ``quant`` trained on ``dataset``."""
    return f"{net}-{quant}-{dataset}.pt"


def check_torch_version(version: str | None = None) -> None:
    """Refuse to read checkpoints with a PyTorch older than :data:`MIN_TORCH_VERSION` (or one
    whose version cannot be read): its ``weights_only`` loader can run code (CVE-2025-32434)."""
    found = str(torch.__version__ if version is None else version)
    match = re.match(r"(\d+)\.(\d+)", found)
    least = ".".join(str(v) for v in MIN_TORCH_VERSION)
    if match is None or (int(match[1]), int(match[2])) < MIN_TORCH_VERSION:
        raise ParameterError(
            f"PyTorch {found} is installed; reading a checkpoint needs torch >= {least}: older "
            "versions' torch.load(weights_only=True) can run code from a crafted file "
            f"(CVE-2025-32434). Upgrade: pip install 'torch>={least}'")


def save_checkpoint(result: TrainResult, path: str | Path) -> Path:
    """Write a checkpoint (atomically) and return its path."""
    from .. import __version__

    m = result.model
    if not isinstance(m, QuantNet | FloatNet):
        raise ParameterError(f"a checkpoint holds a meliso network (QuantNet or FloatNet), not "
                             f"a {type(m).__name__}")
    payload: dict[str, Any] = {
        "net": m.net, "quant": m.quant, "input_shape": [int(v) for v in m.input_shape],
        "classes": int(m.classes), "dataset": result.dataset, "epochs": int(result.epochs),
        "seed": int(result.seed), "accuracy": float(result.accuracy),
        "losses": [float(v) for v in result.losses], "seconds": float(result.seconds),
        "meliso": __version__, "state_dict": m.state_dict(),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _check_metadata(path: Path, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ParameterError(f"{path} is not a meliso checkpoint (no state_dict)")
    for name, kind in FIELDS.items():
        if not isinstance(payload.get(name), kind) or isinstance(payload.get(name), bool):
            raise ParameterError(f"{path} is not a meliso checkpoint: field '{name}' is missing "
                                 f"or not a {getattr(kind, '__name__', kind)}")
    if not known_network(payload["net"], payload["quant"]):
        raise ParameterError(f"{path}: net = {payload['net']!r}, quant = {payload['quant']!r}: "
                             f"allowed nets {', '.join(NETS)} with quants {', '.join(QUANTS)}, "
                             f"or nets {', '.join(FLOAT_NETS)} with quant float")
    shape = payload["input_shape"]
    if len(shape) != 3 or not all(isinstance(v, int) and 1 <= v <= 4096 for v in shape):
        raise ParameterError(f"{path}: input_shape = {shape!r}: allowed three sizes 1 ... 4096")
    if not 2 <= payload["classes"] <= 100_000:
        raise ParameterError(f"{path}: classes = {payload['classes']}: allowed 2 ... 100000")
    return payload


def known_network(net: str, quant: str) -> bool:
    """Whether meliso builds ``net`` ``quant``: a BNN/TNN of :data:`NETS` or a float network
    of :data:`FLOAT_NETS` (quant ``float``)."""
    return (quant in QUANTS and net in NETS) or (quant == "float" and net in FLOAT_NETS)


def check_network(net: str, quant: str) -> None:
    """Refuse a network meliso does not build (see :func:`known_network`)."""
    if quant == "float":
        if net not in FLOAT_NETS:
            raise ParameterError(f"net = {net!r} with quant = 'float': allowed "
                                 f"{', '.join(FLOAT_NETS)}")
        return
    check_quant(quant)
    check_net(net)


def _build(net: str, quant: str, shape: tuple[int, int, int], classes: int
           ) -> QuantNet | FloatNet:
    if quant == "float":
        return build_float_model(net, shape, classes)
    return build_model(net, quant, shape, classes)


def load_checkpoint(path: str | Path) -> tuple[QuantNet | FloatNet, dict[str, Any]]:
    """The network (in eval mode) and the checkpoint's metadata (plain values).

    Refuses, with :class:`ParameterError`, a file that is not a checkpoint or that names
    anything but tensors and plain values (nothing in it is executed).
    """
    path = Path(path)
    check_torch_version()
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParameterError(f"{path} is not a meliso checkpoint, or holds more than tensors "
                             f"and plain values (refused, nothing was run): {first}") from None
    meta = _check_metadata(path, payload)
    shape = tuple(meta["input_shape"])
    model = _build(meta["net"], meta["quant"], shape, meta["classes"])
    try:
        model.load_state_dict(meta.pop("state_dict"))
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ParameterError(f"{path}: its weights do not fit a {meta['net']} "
                             f"{meta['quant']}: {str(exc).splitlines()[0]}") from None
    model.eval()
    return model, meta


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")  # pragma: no cover - a relative path's "." always exists


def check_checkpoint_path(path: Path, *, force: bool = False) -> None:
    """Refuse, before any training, a checkpoint path that cannot be written: a folder, a path
    through a file, a folder without write permission, or an existing file (replaced only with
    ``force`` and only if it is itself a meliso checkpoint)."""
    if path.is_dir():
        raise ParameterError(f"--out {path} is a folder, not a file: give a file path such as "
                             f"{path / 'NET-QUANT-DATASET.pt'}")
    if path.exists():
        if not force:
            raise ParameterError(f"{path} exists; checkpoints are never overwritten: choose "
                                 "another --out, or --force to replace it")
        load_checkpoint(path)  # replaces only a meliso checkpoint
        return
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise ParameterError(f"--out {path}: {folder} is a file, not a folder: choose another "
                             "--out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(f"--out {path}: permission denied to write in {folder}: choose a "
                             "folder you can write to")


def train_checkpoint(net: str, quant: str, dataset: str = "mnist5k", *,
                     data_dir: str | Path | None = None, epochs: int | None = None,
                     seed: int = 0, out: str | Path | None = None, force: bool = False,
                     progress: Progress | None = None) -> dict[str, Any]:
    """Train ``net`` ``quant`` on ``dataset`` and save its checkpoint at ``out`` (default:
    ``runs/checkpoints/NET-QUANT-DATASET.pt``); returns what was trained and where.

    An existing file is never overwritten, except with ``force`` and only if it is itself a
    meliso checkpoint (read safely first). The network, quantisation, epochs and output path
    are checked before the data are read and the network trained
    (:func:`check_checkpoint_path`)."""
    check_network(net, quant)
    if epochs is not None:
        check_training(epochs)
    path = Path(out or Path("runs", "checkpoints", checkpoint_name(net, quant, dataset)))
    check_checkpoint_path(path, force=force)
    data = load_dataset(dataset, data_dir)
    result = (train_float(net, data, epochs=epochs, seed=seed, progress=progress)
              if quant == "float" else
              train(net, quant, data, epochs=epochs, seed=seed, progress=progress))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(result, path)
    return {"net": net, "quant": quant, "dataset": dataset, "epochs": result.epochs,
            "accuracy": result.accuracy, "seconds": result.seconds, "checkpoint": str(path)}
