"""Run directories: atomic files, a point cache by content hash, and no overwriting.

Layout of a run directory::

    config.yaml          the resolved experiment (written first; a different one is refused)
    code.json            meliso's version and code fingerprint (other code is refused)
    points/<key>.json    one finished point: parameters, statistics, fits
    errors/<key>.npy     its raw error vector (trials x rows, float64)
    results.parquet      one row per point, written once every point is done
    figures/             PNG and PDF
    report.md

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a killed run leaves only complete files; a point is finished when its JSON
exists, and the JSON is written after its error vector. Re-running the same experiment into the
same directory skips finished points; a different experiment there is an error.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml
from numpy.typing import NDArray

from .. import __version__
from .._fingerprint import code_fingerprint
from .._io import atomic_write_bytes, atomic_write_text, to_json
from .._validation import ParameterError


class StoredConfig(Protocol):
    """What a run directory keeps of its experiment: any validated config with a canonical
    JSON form (the VMM :class:`ExperimentConfig`, the CIM study's config...)."""

    def canonical(self) -> str: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class RunStore:
    """The files of one run directory."""

    def __init__(self, root: str | Path, config: StoredConfig) -> None:
        self.root = Path(root)
        self.config = config
        cfg_path = self.root / "config.yaml"
        if cfg_path.exists():
            stored = yaml.safe_load(cfg_path.read_text())
            if json.loads(json.dumps(stored)) != json.loads(config.canonical()):
                raise ParameterError(
                    f"{self.root} already holds a different experiment "
                    f"('{stored.get('name', '?')}'); finished runs are never overwritten: "
                    "choose another --out directory"
                )
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write_text(cfg_path, yaml.safe_dump(config.model_dump(mode="json"),
                                                       sort_keys=False))
        code_path = self.root / "code.json"
        code = {"meliso": __version__, "fingerprint": code_fingerprint()}
        if code_path.exists():
            stored_code = json.loads(code_path.read_text())
            if stored_code.get("fingerprint") != code["fingerprint"]:
                raise ParameterError(
                    f"{self.root} was produced by other meliso code (fingerprint "
                    f"{stored_code.get('fingerprint')}, now {code['fingerprint']}); finished "
                    "runs are never overwritten: choose another --out directory"
                )
        else:
            atomic_write_text(code_path, json.dumps(code))
        (self.root / "points").mkdir(exist_ok=True)
        (self.root / "errors").mkdir(exist_ok=True)

    def _point(self, key: str) -> Path:
        return self.root / "points" / f"{key}.json"

    def _errors(self, key: str) -> Path:
        return self.root / "errors" / f"{key}.npy"

    def has(self, key: str) -> bool:
        return self._point(key).exists() and self._errors(key).exists()

    def save_point(self, key: str, record: dict[str, Any], errors: NDArray[np.float64]) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(errors, dtype=np.float64))
        atomic_write_bytes(self._errors(key), buf.getvalue())
        # written last: its existence marks the point finished
        atomic_write_text(self._point(key), to_json(record, sort_keys=True))

    def load_point(self, key: str) -> dict[str, Any]:
        return dict(json.loads(self._point(key).read_text()))

    def load_errors(self, key: str) -> NDArray[np.float64]:
        return np.load(self._errors(key))

    def write_results(self, rows: Iterable[dict[str, Any]]) -> Path:
        """results.parquet: one row per point (nested values as JSON strings)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = []
        for row in rows:
            flat.append({k: (to_json(v, sort_keys=True) if isinstance(v, dict | list) else v)
                         for k, v in row.items()})
        # every key of every row (pyarrow would take the first row's keys alone)
        columns = list(dict.fromkeys(k for row in flat for k in row))
        table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in flat])
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        path = self.root / "results.parquet"
        atomic_write_bytes(path, buf.getvalue().to_pybytes())
        return path


def read_results(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's results.parquet (nested JSON strings decoded)."""
    import pyarrow.parquet as pq

    path = Path(run_dir) / "results.parquet"
    if not path.exists():
        raise ParameterError(f"{run_dir} has no results.parquet: is it a finished meliso run?")
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        for k in ("best_fit_params", "fits", "params", "layers", "histograms", "adc_scales"):
            if isinstance(row.get(k), str):
                row[k] = json.loads(row[k])
    return rows
