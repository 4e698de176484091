"""Device files: a device's fields, how they were fitted and where from, as YAML
(``docs/devices.md``). Wherever meliso takes a preset name it also takes the path of such a file
(``--device mydevice.yaml``, ``get_device("mydevice.yaml")``).

The file holds ``device`` (every field of an AnalogDevice), and for a fitted device ``fit``
(each branch's statistics) and ``provenance`` (the data file's name and SHA-256, the date, the
meliso version). Only ``device`` is read back; files are parsed with meliso's bounded, alias-free
YAML reader.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import yaml

from .._validation import ParameterError, validate_model
from .analog import AnalogDevice

#: The first line of every device file meliso writes: files without it are never overwritten.
MARKER = "# meliso device file"
SUFFIXES = (".yaml", ".yml")


def is_device_path(name: str) -> bool:
    """Whether a device argument names a file rather than a preset."""
    return name.lower().endswith(SUFFIXES)


#: Largest device file read (they are a few kilobytes).
MAX_FILE_BYTES = 1 << 20


def read_device_document(path: str | Path) -> dict[str, Any]:
    """A device file's YAML mapping, its size checked before it is read."""
    from .._yaml import load_yaml_text

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"device file {p} does not exist")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ParameterError(f"{p} is {p.stat().st_size} bytes: a device file is at most "
                             f"{MAX_FILE_BYTES}")
    data = load_yaml_text(p.read_text(encoding="utf-8"), str(p))
    if not isinstance(data, dict):
        raise ParameterError(f"{p} is not a meliso device file: it needs a 'device' mapping")
    return data


def load_device_file(path: str | Path) -> AnalogDevice:
    """The device of a device file (its ``device`` mapping, validated)."""
    p = Path(path)
    data = read_device_document(p)
    if not isinstance(data.get("device"), dict):
        raise ParameterError(f"{p} is not a meliso device file: it needs a 'device' mapping "
                             "of AnalogDevice fields (written by meliso device fit)")
    fields = dict(data["device"])
    fields.setdefault("name", p.stem)
    if fields.get("kind", "analog") != "analog":
        raise ParameterError(f"{p}: kind = {fields['kind']!r}: device files hold analog "
                             "devices")
    return validate_model(AnalogDevice, fields)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_device_file(path: str | Path, device: AnalogDevice, *, fit: dict[str, Any] | None = None,
                      provenance: dict[str, Any] | None = None, force: bool = False) -> Path:
    """Write ``device`` (and its fit and provenance) atomically. An existing file is replaced
    only with ``force`` and only if meliso wrote it (its first line is the marker)."""
    from .. import __version__
    from .._io import atomic_write_text

    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise ParameterError(f"{p}: a device file ends in .yaml or .yml")
    if p.exists():
        with p.open("rb") as fh:
            first = fh.readline(len(MARKER) + 2).decode("utf-8", errors="replace")
        if first.strip() != MARKER:
            raise ParameterError(f"{p} exists and meliso did not write it: choose another --out")
        if not force:
            raise ParameterError(f"{p} exists: use --force to replace it")
    body: dict[str, Any] = {"device": _plain(device.model_dump())}
    if fit is not None:
        body["fit"] = _plain(fit)
    body["provenance"] = _plain({**(provenance or {}), "meliso_version": __version__,
                                 "written": datetime.datetime.now(datetime.UTC)
                                 .isoformat(timespec="seconds")})
    text = MARKER + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    atomic_write_text(p, text)
    return p
