"""``meliso device fit``: measured pulse trains -> a fitted device -> a device file."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .._validation import validate_model
from .analog import AnalogDevice
from .device_file import write_device_file
from .fitting import fit_device
from .measured import read_traces, sha256_file


def fit_file(data: str | Path, *, out: str | Path | None = None, units: str = "S",
             g_min_s: float | None = None, g_max_s: float | None = None,
             name: str | None = None, v_read_v: float = 0.5, r_access_ohm: float = 0.0,
             resamples: int = 100, seed: int = 0, force: bool = False) -> dict[str, Any]:
    """Fit the data file and write the device file; returns what was written, the fit's
    statistics and its warnings."""
    path = Path(data)
    traces = read_traces(path, units=units, g_min_s=g_min_s, g_max_s=g_max_s)
    fit = fit_device(traces, resamples=resamples, seed=seed)
    fields = {"name": name or path.stem, "citation": f"fitted by meliso device fit from "
              f"{path.name}", "v_read_v": v_read_v, "r_access_ohm": r_access_ohm,
              **fit.device_fields()}
    device = validate_model(AnalogDevice, fields)
    stats: dict[str, Any] = {"window_g_min_s": fit.g_min_s, "window_g_max_s": fit.g_max_s,
             "devices": fit.devices, "cycles": fit.cycles,
             "ltp": dataclasses.asdict(fit.ltp), "ltd": dataclasses.asdict(fit.ltd),
             "resamples": resamples}
    for branch in ("ltp", "ltd"):
        stats[branch]["warnings"] = list(stats[branch]["warnings"])
    provenance = {"data_file": path.name, "data_sha256": sha256_file(path), "units": units}
    target = Path(out) if out is not None else Path(path.stem + ".yaml")
    written = write_device_file(target, device, fit=stats, provenance=provenance, force=force)
    return {"file": str(written), "device": device.model_dump(), "fit": stats,
            "warnings": list(fit.warnings), "provenance": provenance}
