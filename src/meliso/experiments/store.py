"""Run directories: atomic files, a point cache by content hash, and no overwriting.

Layout of a run directory::

    config.yaml          the resolved experiment (written first; a different one is refused)
    code.json            meliso's version and code fingerprint (other code is refused)
    points/<key>.json    one finished point: parameters, statistics, fits
    errors/<key>.npy     its raw error vector (trials x rows, float64)
    results.parquet      one row per point, written once every point is done
    results.csv          the same rows, plain columns only (for spreadsheets and pandas)
    figures/             PNG and PDF
    report.md

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a killed run leaves only complete files; a point is finished when its JSON
exists, and the JSON is written after its error vector. Re-running the same experiment into the
same directory skips finished points; a different experiment there is an error. A point file
that cannot be read back (truncated, edited) is removed with a warning and computed again.
The folder itself is claimed and locked by :mod:`.rundir` (``.meliso-run``, ``.meliso-lock``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml
from numpy.typing import NDArray

from .. import __version__
from .._fingerprint import code_fingerprint
from .._io import atomic_write_bytes, atomic_write_text, to_json, write_csv
from .._validation import MelisoWarning, ParameterError
from .rundir import own_subdir


class CacheWarning(MelisoWarning):
    """A cached file of a run was damaged and is recomputed."""


class StoredConfig(Protocol):
    """What a run directory keeps of its experiment: any validated config with a canonical
    JSON form (the VMM :class:`ExperimentConfig`, the CIM study's config...)."""

    def canonical(self) -> str: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class RunStore:
    """The files of one run directory (claimed and locked by the caller:
    :func:`meliso.experiments.rundir.run_folder`).

    A directory whose ``config.yaml`` or ``code.json`` differs from this run's is refused if it
    holds finished points; if it holds none (a run that failed before computing anything), the
    new run takes it over.
    """

    def __init__(self, root: str | Path, config: StoredConfig, *,
                 fingerprint: str | None = None) -> None:
        self.root = Path(root)
        self.config = config
        code = {"meliso": __version__, "fingerprint": fingerprint or code_fingerprint()}
        self.fingerprint = code["fingerprint"]
        started = self._has_points()
        cfg_path, code_path = self.root / "config.yaml", self.root / "code.json"
        if started and cfg_path.exists():
            stored = self._read_stored(cfg_path, yaml.safe_load, "config.yaml")
            if not isinstance(stored, dict) or \
                    json.loads(json.dumps(stored)) != json.loads(config.canonical()):
                name = stored.get("name", "?") if isinstance(stored, dict) else "?"
                raise ParameterError(
                    f"{self.root} already holds a different experiment ('{name}'); finished "
                    "runs are never overwritten: choose another --out directory, or --force to "
                    "recompute this one"
                )
        if started and code_path.exists():
            stored_code = self._read_stored(code_path, json.loads, "code.json")
            if not isinstance(stored_code, dict) or \
                    stored_code.get("fingerprint") != code["fingerprint"]:
                got = stored_code.get("fingerprint") if isinstance(stored_code, dict) else "?"
                raise ParameterError(
                    f"{self.root} was produced by other meliso code (fingerprint {got}, now "
                    f"{code['fingerprint']}); finished runs are never overwritten: choose "
                    "another --out directory, or --force to recompute this one"
                )
        if not (started and cfg_path.exists()):
            atomic_write_text(cfg_path, yaml.safe_dump(config.model_dump(mode="json"),
                                                       sort_keys=False))
        if not (started and code_path.exists()):
            atomic_write_text(code_path, json.dumps(code))
        own_subdir(self.root, "points")
        own_subdir(self.root, "errors")

    def _has_points(self) -> bool:
        points = self.root / "points"
        return points.is_dir() and any(_POINT_NAME.fullmatch(p.name) for p in points.iterdir())

    def _read_stored(self, path: Path, parse: Any, what: str) -> Any:
        try:
            return parse(path.read_text())
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ParameterError(
                f"{path} is damaged ({type(exc).__name__}): this run cannot be resumed; use "
                "--force to recompute it, or choose another --out directory") from None

    def _point(self, key: str) -> Path:
        return self.root / "points" / f"{key}.json"

    def _errors(self, key: str) -> Path:
        return self.root / "errors" / f"{key}.npy"

    def has(self, key: str) -> bool:
        """Whether point ``key`` is finished and readable. A damaged point (a truncated or
        edited file) is removed with a warning, so that it is computed again."""
        point, errors = self._point(key), self._errors(key)
        if not point.exists():
            return False
        try:
            record = json.loads(point.read_text())
            with errors.open("rb") as fh:  # the header must describe the bytes that follow
                fmt = np.lib.format
                header = (fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0)
                          else fmt.read_array_header_2_0)
                shape, _, dtype = header(fh)
                body = errors.stat().st_size - fh.tell()
            ok = isinstance(record, dict) and record.get("key") == key \
                and record.get("checksum") == _checksum(record) \
                and body == dtype.itemsize * int(np.prod(shape))
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            warnings.warn(f"cached point {key} in {self.root} is damaged; computing it again",
                          CacheWarning, stacklevel=2)
            point.unlink(missing_ok=True)
            errors.unlink(missing_ok=True)
        return ok

    def save_point(self, key: str, record: dict[str, Any], errors: NDArray[np.float64]) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(errors, dtype=np.float64))
        atomic_write_bytes(self._errors(key), buf.getvalue())
        # written last: its existence marks the point finished
        stored = json.loads(to_json(record, sort_keys=True))  # as it will read back
        stored["checksum"] = _checksum(stored)
        atomic_write_text(self._point(key), to_json(stored, sort_keys=True))

    def load_point(self, key: str) -> dict[str, Any]:
        record = dict(json.loads(self._point(key).read_text()))
        record.pop("checksum", None)
        return record

    def load_errors(self, key: str) -> NDArray[np.float64]:
        return np.load(self._errors(key))

    def write_results(self, rows: Iterable[dict[str, Any]]) -> Path:
        """results.parquet: one row per point (nested values as JSON strings); and
        results.csv: the same rows with their plain (non-nested) columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(rows)
        flat = []
        for row in rows:
            flat.append({k: (to_json(v, sort_keys=True) if isinstance(v, dict | list) else v)
                         for k, v in row.items()})
        # every key of every row (pyarrow would take the first row's keys alone)
        columns = list(dict.fromkeys(k for row in flat for k in row))
        for k in columns:  # a column of mixed kinds (a sweep of words and numbers): as text
            kinds = {_kind(row.get(k)) for row in flat} - {"none"}
            if len(kinds) > 1:
                for row in flat:
                    if row.get(k) is not None:
                        row[k] = to_json(row[k]) if not isinstance(row[k], str) else row[k]
        table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in flat])
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        path = self.root / "results.parquet"
        atomic_write_bytes(path, buf.getvalue().to_pybytes())
        plain = [k for k in columns if not any(isinstance(row.get(k), dict | list)
                                               for row in rows)]
        write_csv(self.root / "results.csv", rows, plain)
        return path


#: A point file meliso writes: ``<20 hex digits>.json`` (the point's key).
_POINT_NAME = re.compile(r"[0-9a-f]{20}\.json")


def _kind(value: Any) -> str:
    """What Parquet stores ``value`` as: none, bool, number or text."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else "text"


def _checksum(record: dict[str, Any]) -> str:
    """SHA-256 of a point record as stored (without its own checksum field): a point file that
    was edited, truncated or written by anything but :meth:`RunStore.save_point` fails it."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(to_json(body, sort_keys=True).encode()).hexdigest()


def read_point_array(run_dir: str | Path, key: str) -> NDArray[np.float64] | None:
    """A finished point's stored array (``errors/<key>.npy``; no pickles), or None where the
    run has none for it."""
    path = Path(run_dir) / "errors" / f"{key}.npy"
    if not path.is_file():
        return None
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
    except (OSError, ValueError):
        return None


def read_results(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's results.parquet (nested JSON strings decoded)."""
    import pyarrow.parquet as pq

    path = Path(run_dir) / "results.parquet"
    if not path.exists():
        raise ParameterError(f"{run_dir} has no results.parquet: is it a finished meliso run?")
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ParameterError(f"{path} is damaged ({type(exc).__name__}): run the experiment "
                             "again (finished points are cached) or with --force") from None
    for row in rows:
        for k in ("best_fit_params", "fits", "params", "layers", "histograms", "adc_scales",
                  "sample_accuracy_pct", "curve_epochs", "curve_accuracy_pct"):
            if isinstance(row.get(k), str):
                row[k] = json.loads(row[k])
        if isinstance(row.get("params"), dict):
            # a column mixing ints and floats is stored as floats: the labels keep their types
            row.update(row["params"])
    return rows
