"""``meliso device fit``: measured pulse trains -> a fitted device -> a device file."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .._validation import ParameterError, validate_model
from .analog import AnalogDevice
from .device_file import write_device_file
from .fitting import fit_device
from .measured import read_traces, sha256_file

#: Most pulses ``meliso device show`` simulates for its band.
MAX_SHOW_PULSES = 5_000_000


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
             "sigma_d2d": fit.sigma_d2d, "sigma_d2d_ci": list(fit.sigma_d2d_ci),
             "ltp": _plain(dataclasses.asdict(fit.ltp)), "ltd": _plain(dataclasses.asdict(fit.ltd)),
             "resamples": resamples}
    provenance = {"data_file": path.name, "data_sha256": sha256_file(path), "units": units,
                  "g_min_s": g_min_s, "g_max_s": g_max_s}
    target = Path(out) if out is not None else Path(path.stem + ".yaml")
    written = write_device_file(target, device, fit=stats, provenance=provenance, force=force)
    return {"file": str(written), "device": device.model_dump(), "fit": stats,
            "warnings": list(fit.warnings), "provenance": provenance}


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    """A branch's statistics with tuples as lists (YAML and JSON as plain data)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in stats.items()}


def curve_bands(device: AnalogDevice, cycles: int, seed: int
                ) -> tuple[tuple[Any, Any, Any], tuple[Any, Any, Any]]:
    """(median, 5th, 95th percentile) of the conductance after each pulse over ``cycles``
    simulated LTP and LTD trains of the device (its C-to-C included), per branch."""
    import numpy as np

    from .fitting import simulate_traces

    traces = simulate_traces(device, np.random.default_rng(seed), cycles=cycles)
    out = []
    for direction in ("ltp", "ltd"):
        g = np.stack([t.g_s for t in traces if t.direction == direction])
        out.append((np.median(g, axis=0), np.percentile(g, 5, axis=0),
                    np.percentile(g, 95, axis=0)))
    return out[0], out[1]


def show_device(device: str, *, data: str | Path | None = None, out: str | Path | None = None,
                cycles: int = 200, seed: int = 0, force: bool = False) -> dict[str, Any]:
    """``meliso device show``: the device's fields and, for a figure, its pulse response
    (``out``.png and .pdf) with the measured traces on top: ``data``, or the data file a
    device file names when it sits beside it with the same SHA-256."""
    from ..analysis.plots import pulse_response, save_figure
    from .device_file import is_device_path
    from .presets import get_device

    dev = get_device(device)
    if not isinstance(dev, AnalogDevice):
        raise ParameterError(f"device = {dev.name!r} is binary: it has no pulse response")
    result: dict[str, Any] = {"device": dev.model_dump()}
    if out is None:
        return result
    units: dict[str, Any] = {}
    if data is None and is_device_path(device):
        data, units = _provenance_data(Path(device))
    measured = ([(t.direction, t.g_s) for t in read_traces(data, **units)]
                if data is not None else [])
    name = str(out)
    for ext in (".png", ".pdf"):  # "fig.png" and "fig" both mean fig.png + fig.pdf
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    stem = Path(name)
    for ext in ("png", "pdf"):  # exactly the paths save_figure writes
        target = Path(f"{stem}.{ext}")
        if target.exists() and not force:
            raise ParameterError(f"{target} exists: use --force to replace it")
    pulses = (dev.levels_ltp + dev.levels_ltd) * cycles
    if pulses > MAX_SHOW_PULSES:
        raise ParameterError(f"(levels_ltp + levels_ltd) x cycles = {pulses} simulated pulses: "
                             f"allowed at most {MAX_SHOW_PULSES} (lower --cycles)")
    ltp, ltd = curve_bands(dev, cycles, seed)
    fig, caption = pulse_response(ltp, ltd, name=dev.name, sigma_c2c=dev.sigma_c2c,
                                  data=measured)
    paths = save_figure(fig, stem)
    result.update({"figure": [str(p) for p in paths], "caption": caption,
                   "data": None if data is None else str(data)})
    return result


def _provenance_data(path: Path) -> tuple[Path | None, dict[str, Any]]:
    """The data file a device file names, if it sits beside it with the same SHA-256 (and is
    no larger than a data file may be), with the units it was read in."""
    from .device_file import read_device_document
    from .measured import MAX_BYTES

    prov = read_device_document(path).get("provenance")
    if not isinstance(prov, dict) or not isinstance(prov.get("data_file"), str):
        return None, {}
    candidate = path.parent / Path(prov["data_file"]).name
    if not candidate.is_file() or candidate.stat().st_size > MAX_BYTES \
            or sha256_file(candidate) != prov.get("data_sha256"):
        return None, {}
    units = {k: prov[k] for k in ("units", "g_min_s", "g_max_s") if prov.get(k) is not None}
    return candidate, units
