"""What the on-chip learning runs show: final accuracies with their spread across runs and
binomial intervals, the verdict per device against MLP_NeuroSim's Table II, and which parameter
limits each device. Sentences come from ``findings.yaml``; numbers from the results."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..._yaml import load_yaml_text
from ...analysis.stats import wilson_interval
from .study import OFF, OFF_NOUN

Rows = list[dict[str, Any]]
HERE = Path(__file__).resolve().parent
#: Points within which a model agrees with the manual's rounded values.
TOLERANCE_PCT = 5.0


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """MLP_NeuroSim V3.0 manual, Table II (``reference.yaml``)."""
    return dict(load_yaml_text((HERE / "reference.yaml").read_text(), "reference.yaml"))


@lru_cache(maxsize=1)
def sentences() -> dict[str, str]:
    return dict(load_yaml_text((HERE / "findings.yaml").read_text(), "findings.yaml"))


def runs(rows: Rows, model: str, device: str, variant: str, value: str | None = None) -> Rows:
    return [r for r in rows if (r["model"], r["device"], r["variant"]) == (model, device, variant)
            and (value is None or r.get("value") == value)]


def summary(group: Rows) -> dict[str, Any]:
    """Mean final accuracy of runs, their spread (sample sd) and the 95 % Wilson interval of
    the test images pooled over the runs."""
    acc = np.array([r["accuracy_pct"] for r in group])
    k = sum(int(r["correct"]) for r in group)
    n = sum(int(r["n_images"]) for r in group)
    lo, hi = wilson_interval(k, n)
    sd = float(np.std(acc, ddof=1)) if len(acc) > 1 else math.nan
    return {"mean": float(acc.mean()), "sd": sd, "runs": len(acc), "ci": (100 * lo, 100 * hi),
            "n_images": int(group[0]["n_images"])}


def run_noise(base: dict[str, Any]) -> float:
    """One run's accuracy noise, points: the spread across runs, or with one run the test
    images' binomial sd."""
    if not math.isnan(base["sd"]):
        return max(base["sd"], _binomial_sd(base))
    return _binomial_sd(base)


def _binomial_sd(s: dict[str, Any]) -> float:
    p = s["mean"] / 100
    return 100 * math.sqrt(max(p * (1 - p), 1e-4) / s["n_images"])


def fmt(s: dict[str, Any]) -> str:
    sd = "" if math.isnan(s["sd"]) else f" ± {s['sd']:.1f}"
    return f"{s['mean']:.1f}{sd} [{s['ci'][0]:.1f}, {s['ci'][1]:.1f}]"


def verdict(s: dict[str, Any], device: str) -> str:
    """Agreement with the manual's Table II value of ``device`` ("" when it has none)."""
    ref = reference()["devices"].get(device)
    if ref is None:
        return ""
    tol = max(TOLERANCE_PCT, 2 * (0.0 if math.isnan(s["sd"]) else s["sd"]))
    diff = s["mean"] - ref["accuracy_pct"]
    text = sentences()
    if abs(diff) <= tol:
        return text["agree"].format(ref=ref["accuracy_pct"], tol=tol)
    key = "above" if diff > 0 else "below"
    return text[key].format(diff=abs(diff), ref=ref["accuracy_pct"])


def limiting(rows: Rows, model: str, device: str) -> tuple[str, dict[str, float]]:
    """The parameter whose removal gains the most beyond noise (sentence), and every
    ablation's gain in points."""
    base_runs = runs(rows, model, device, "baseline")
    if not base_runs:
        return "", {}
    base = summary(base_runs)
    noise = run_noise(base)
    gains: dict[str, float] = {}
    best: tuple[float, str] | None = None
    for what in OFF:
        group = runs(rows, model, device, "off", what)
        if not group:
            continue
        s = summary(group)
        gain = s["mean"] - base["mean"]
        gains[what] = gain
        bound = 2 * noise * math.sqrt(1 / base["runs"] + 1 / s["runs"])
        if gain > bound and (best is None or gain > best[0]):
            best = (gain, what)
    text = sentences()
    if not gains:
        return "", gains
    if best is None:
        return text["unlimited"].format(noise=noise), gains
    return text["limited"].format(what=OFF_NOUN[best[1]], gain=best[0], noise=noise), gains


def headline(rows: Rows) -> tuple[Rows, list[str]]:
    """The summary table (one row per device) and a paragraph per device."""
    models = list(dict.fromkeys(r["model"] for r in rows if r["variant"] == "baseline"))
    devices = list(dict.fromkeys(r["device"] for r in rows if r["variant"] == "baseline"))
    ref = reference()["devices"]
    table: Rows = []
    lines: list[str] = []
    for device in devices:
        row: dict[str, Any] = {"device": device,
                               "MLP_NeuroSim (manual) %": f"{ref[device]['accuracy_pct']:.0f}"
                               if device in ref else "–"}
        para = [f"**{device}**:"]
        for model in models:
            group = runs(rows, model, device, "baseline")
            if not group:
                continue
            s = summary(group)
            row[f"{model} %"] = fmt(s)
            row[f"{model} verdict"] = verdict(s, device)
            why, _ = limiting(rows, model, device)
            para.append(f"`{model}` reaches {fmt(s)} % ({s['runs']} runs), "
                        f"{verdict(s, device) or 'no manual value'}"
                        + (f"; {why}" if why else "") + ".")
        table.append(row)
        lines.append(" ".join(para) + "\n")
    return table, lines


def baseline_rows(rows: Rows) -> Rows:
    """The ideal device and software SGD, summarised."""
    out: Rows = []
    for model, device, variant, label in (("software", "-", "software", "software SGD (float)"),
                                          ("neurosim", "ideal", "ideal", "ideal device, neurosim"),
                                          ("physics", "ideal", "ideal", "ideal device, physics")):
        group = runs(rows, model, device, variant)
        if group:
            out.append({"baseline": label, "accuracy %": fmt(summary(group))})
    return out


def ablation_rows(rows: Rows) -> Rows:
    """Final accuracy of every switched-off parameter beside the baseline, per model/device."""
    out: Rows = []
    for model in dict.fromkeys(r["model"] for r in rows if r["variant"] == "off"):
        for device in dict.fromkeys(r["device"] for r in rows if r["variant"] == "off"):
            base = runs(rows, model, device, "baseline")
            if not base:
                continue
            row: dict[str, Any] = {"model": model, "device": device,
                                   "as published": f"{summary(base)['mean']:.1f}"}
            _, gains = limiting(rows, model, device)
            for what, gain in gains.items():
                row[OFF[what]] = f"{gain:+.1f}"
            out.append(row)
    return out


def cost_rows(rows: Rows) -> Rows:
    """Pulses, write energy and latency of a whole training, and the simulation's speed."""
    ref = reference()["devices"]
    out: Rows = []
    for r in rows:
        if r["variant"] != "baseline" or r["run"] != 0:
            continue
        e, t = r.get("write_energy_j"), r.get("write_latency_s")
        m = ref.get(r["device"], {})
        out.append({
            "model": r["model"], "device": r["device"],
            "pulses": f"{r['pulses_total']:.3g}",
            "cell write energy (mJ)": "–" if e is None else f"{1e3 * e:.3g}",
            "write latency (s)": "–" if t is None else f"{t:.3g}",
            "manual: energy (mJ) / latency (s)":
                f"{1e3 * m['energy_j']:.3g} / {m['latency_s']:.4g}" if m else "–",
            "images/s": f"{r['images_per_second']:.0f}"})
    return out
