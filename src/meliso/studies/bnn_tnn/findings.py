"""The trends of Cubero-Cascante et al. 2025 checked on the study's points, with the numbers.

The claims, where the paper makes them and the mechanisms are data (``paper.yaml`` beside this
module); this module computes the evidence for each from the stored points.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..._yaml import load_yaml_text
from .study import ENCODINGS_FOR, ENERGY_ENCODING, CimConfig

Rows = list[dict[str, Any]]


@lru_cache(maxsize=1)
def paper() -> dict[str, Any]:
    """``paper.yaml``: the paper's baselines and the claims the report checks."""
    text = (resources.files(__package__) / "paper.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml_text(text, "paper.yaml")
    return data


def paper_baseline(network: str, quant: str) -> float:
    """The paper's Table II top-1 accuracy (%) of ``network`` ``quant`` (NaN if none)."""
    for row in paper()["baselines"]:
        if row["network"] == network and row["quant"] == quant:
            return float(row["accuracy"])
    return float("nan")


def _head(key: str) -> str:
    f = paper()["findings"][key]
    return f"- **{f['claim']}** ({f['paper']})"


def _mechanism(key: str) -> str:
    return str(paper()["findings"][key].get("mechanism", ""))


def _wires(config: CimConfig, fig3: Rows) -> list[str]:
    if 0.0 not in config.r_p_ohm:
        return ["- Wire-parasitics trends: not checked (the R_p sweep has no 0 Ω point to "
                "compare with)."]
    out = []
    ideal = {q: np.mean([r["accuracy"] for r in fig3 if r["quant"] == q and
                         r["r_p_ohm"] == 0]) for q in config.quants}
    r_max, n_max = max(config.r_p_ohm), max(config.rp_crossbars)
    for n in sorted(config.rp_crossbars):
        wired = {q: np.mean([r["accuracy"] for r in fig3 if r["quant"] == q and
                             r["r_p_ohm"] > 0 and r["crossbar"] == n and
                             r["encoding"] in ENCODINGS_FOR["TNN"]])
                 for q in config.quants}
        drop = {q: 100 * (ideal[q] - wired[q]) for q in config.quants}
        if len(config.quants) == 2:
            holds = "holds" if drop["TNN"] < drop["BNN"] else "does not hold"
            out.append(f"{_head('tnn_resilient')}, {n}x{n}: {holds}. Mean accuracy loss over "
                       "R_p > 0, every technology, T-I and T-II: BNN "
                       f"{drop['BNN']:.1f} points, TNN {drop['TNN']:.1f} points.")
    by_tech = {t: np.mean([r["accuracy"] for r in fig3 if r["technology"] == t and
                           r["r_p_ohm"] == r_max and r["crossbar"] == n_max])
               for t in config.technologies}
    ranking = sorted(by_tech, key=lambda t: -by_tech[t])
    out.append(f"{_head('high_lrs')}: ranking at R_p = {r_max:g} Ω, {n_max}x{n_max}: "
               + ", ".join(f"{t} {100 * by_tech[t]:.1f} %" for t in ranking) + ". "
               + _mechanism("high_lrs"))
    return out


def _adc(config: CimConfig, fig4: Rows, baselines: dict[str, float]) -> list[str]:
    out = []
    for quant in config.quants:
        base = 100 * baselines[quant]
        parts = []
        for cal in (True, False):
            acc = {(r["encoding"], r["adc_bits"]): 100 * r["accuracy"] for r in fig4
                   if r["quant"] == quant and r["calibrated"] == cal}
            need = {}
            for enc in ENCODINGS_FOR[quant]:
                ok = [b for (e, b), a in acc.items() if e == enc and a >= base - 2]
                need[enc] = min(ok) if ok else None
            parts.append(f"{'calibrated' if cal else 'uncalibrated'}: " + ", ".join(
                f"{e} {n if n is not None else '>' + str(max(config.adc_bits))} bits"
                for e, n in need.items()))
        f = paper()["findings"]["adc_bits"]
        out.append(f"- **{quant}: {f['claim']} ({base:.1f} %)** ({f['paper']}): "
                   + "; ".join(parts) + ".")
    return out


def _energy(config: CimConfig, energy: Rows) -> list[str]:
    out = []
    for quant in config.quants:
        pts = sorted((r["crossbar"], r["mac_per_joule"], r["column_utilisation"],
                      r["mac_per_joule_constant_rd"])
                     for r in energy if r["quant"] == quant
                     and r["encoding"] == ENERGY_ENCODING[quant])
        gains = [b[1] / a[1] for a, b in itertools.pairwise(pts)]
        gains_c = [b[3] / a[3] for a, b in itertools.pairwise(pts)]
        f = paper()["findings"]["efficiency"]
        out.append(f"- **{quant} {f['claim']}** ({f['paper']}): " + ", ".join(
            f"{n}: {m / 1e12:.2f} TMAC/J ({100 * u:.0f} % columns)" for n, m, u, _ in pts)
            + "; step gains " + ", ".join(f"{g:.2f}x" for g in gains) + "; with a constant "
            "row-driver energy " + ", ".join(f"{g:.2f}x" for g in gains_c) + ". "
            + _mechanism("efficiency"))
    if len(config.quants) == 2:
        ratio = []
        for n in config.energy_crossbars:
            b = [r["mac_per_joule"] for r in energy if r["quant"] == "BNN"
                 and r["crossbar"] == n and r["encoding"] == ENERGY_ENCODING["BNN"]]
            t = [r["mac_per_joule"] for r in energy if r["quant"] == "TNN"
                 and r["crossbar"] == n and r["encoding"] == ENERGY_ENCODING["TNN"]]
            if b and t:
                ratio.append(1 - t[0] / b[0])
        if ratio:
            out.append(f"{_head('tnn_energy')}: TNN (T-I) is {100 * np.mean(ratio):.0f} % less "
                       f"efficient than BNN (B-I) on average over crossbar sizes "
                       f"({_mechanism('tnn_energy')}).")
    return out


def findings(config: CimConfig, rows: Rows, baselines: dict[str, float]) -> list[str]:
    """One Markdown bullet per checked trend, with its evidence."""
    out = []
    fig3 = [r for r in rows if r["figure"] == "fig3"]
    if fig3:
        out += _wires(config, fig3)
    fig4 = [r for r in rows if r["figure"] == "fig4"]
    if fig4:
        out += _adc(config, fig4, baselines)
    energy = [r for r in rows if r["figure"] == "fig5"]
    if energy:
        out += _energy(config, energy)
    return out
