"""The trends of Cubero-Cascante et al. 2025 checked on the study's points, with the numbers,
the binomial noise of the test images, and the robustness across disjoint test samples.

The claims, where the paper makes them and the mechanisms are data (``paper.yaml`` beside this
module); this module computes the evidence. Every accuracy comparison is a test against the
binomial noise of the test images (:func:`meliso.analysis.stats.proportions_differ`, 95 %):
a difference inside the noise is reported as *within noise*, never as a failed trend. Each
verdict also says on how many of the disjoint test samples its direction holds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..._yaml import load_yaml_text
from ...analysis.stats import proportions_differ
from ...devices import BinaryDevice, get_device
from .study import ENCODINGS_FOR, ENERGY_ENCODING, CimConfig

Rows = list[dict[str, Any]]
#: Accuracy loss (points) within which the paper calls an ADC resolution enough.
ADC_TOLERANCE_PCT = 2.0
Z95 = 1.959964


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


def _head(key: str, extra: str = "") -> str:
    f = paper()["findings"][key]
    return f"- **{f['claim']}{extra}** ({f['paper']})"


def _mechanism(key: str) -> str:
    return str(paper()["findings"][key].get("mechanism", ""))


def pooled(rows: Rows) -> tuple[int, int]:
    """(correct, images) over ``rows``."""
    return sum(int(r["correct"]) for r in rows), sum(int(r["n_images"]) for r in rows)


def per_sample(rows: Rows) -> np.ndarray:
    """Accuracy (%) of each disjoint sample, averaged over ``rows``."""
    return np.mean([r["sample_accuracy_pct"] for r in rows], axis=0)


def _pct(k: int, n: int) -> float:
    return 100 * k / n if n else math.nan


def _drop_z(ideal: tuple[int, int], wired: tuple[int, int], ideal2: tuple[int, int],
            wired2: tuple[int, int]) -> float:
    """z of (drop 1 - drop 2), each drop = ideal accuracy - wired accuracy (binomial)."""
    props = [(k / n, n) for k, n in (ideal, wired, ideal2, wired2) if n]
    if len(props) < 4:
        return 0.0
    var = sum(p * (1 - p) / n for p, n in props)
    d1 = props[0][0] - props[1][0]
    d2 = props[2][0] - props[3][0]
    return (d1 - d2) / math.sqrt(var) if var > 0 else math.copysign(math.inf, d1 - d2)


def _verdict(z: float) -> str:
    if z > Z95:
        return "holds"
    return "does not hold" if z < -Z95 else "within noise"


def _wires(config: CimConfig, fig3: Rows) -> list[str]:
    if 0.0 not in config.r_p_ohm:
        return ["- Wire-parasitics trends: not checked (the R_p sweep has no 0 Ω point to "
                "compare with)."]
    out = []
    enc = ENCODINGS_FOR["TNN"]
    # ideal hardware: the software's logits for every technology and encoding (one point)
    ideal = {q: [r for r in fig3 if r["quant"] == q and r["r_p_ohm"] == 0][:1]
             for q in config.quants}
    if len(config.quants) == 2:
        for n in sorted(config.rp_crossbars):
            wired = {q: [r for r in fig3 if r["quant"] == q and r["r_p_ohm"] > 0
                         and r["crossbar"] == n and r["encoding"] in enc]
                     for q in config.quants}
            if not all(wired.values()):
                continue
            z = _drop_z(pooled(ideal["BNN"]), pooled(wired["BNN"]), pooled(ideal["TNN"]),
                        pooled(wired["TNN"]))
            drops = {q: per_sample(ideal[q]) - per_sample(wired[q]) for q in config.quants}
            k = int(np.sum(drops["TNN"] < drops["BNN"]))
            loss = {q: _pct(*pooled(ideal[q])) - _pct(*pooled(wired[q])) for q in drops}
            out.append(f"{_head('tnn_resilient', f', {n}x{n}')}: **{_verdict(z)}** (TNN loses "
                       f"less in {k}/{len(drops['TNN'])} test samples). Mean accuracy loss "
                       f"over R_p > 0, every technology, T-I and T-II: BNN "
                       f"{loss['BNN']:.1f} points, TNN {loss['TNN']:.1f} points (z = {z:.1f}).")
    out.append(_ranking(config, fig3))
    return out


def _r_lrs_ohm(technology: str) -> float:
    dev = get_device(technology)
    assert isinstance(dev, BinaryDevice)  # the study's config admits binary devices only
    return dev.r_lrs_ohm


def _ranking(config: CimConfig, fig3: Rows) -> str:
    r_max, n_max = max(config.r_p_ohm), max(config.rp_crossbars)
    at = {t: [r for r in fig3 if r["technology"] == t and r["r_p_ohm"] == r_max
              and r["crossbar"] == n_max] for t in config.technologies}
    at = {t: rows for t, rows in at.items() if rows}
    lrs = {t: _r_lrs_ohm(t) for t in at}
    order = sorted(at, key=lambda t: -lrs[t])
    inverted = ordered = 0
    for hi, lo in itertools.combinations(order, 2):  # hi has the larger R_LRS
        (k1, n1), (k2, n2) = pooled(at[hi]), pooled(at[lo])
        if proportions_differ(k1, n1, k2, n2):
            ordered += k1 / n1 > k2 / n2
            inverted += k1 / n1 < k2 / n2
    verdict = "does not hold" if inverted else ("holds" if ordered else "within noise")
    samples = np.array([per_sample(at[t]) for t in order])  # rows in R_LRS order
    k = int(np.sum(np.all(np.diff(samples, axis=0) <= 0, axis=0))) if len(order) > 1 else 0
    listed = ", ".join(f"{t} (R_LRS {lrs[t]:.3g} Ω) {_pct(*pooled(at[t])):.1f} %"
                       for t in order)
    return (f"{_head('high_lrs')}: **{verdict}** (accuracy follows R_LRS in {k}/"
            f"{samples.shape[1] if samples.size else 0} test samples). At R_p = {r_max:g} Ω, "
            f"{n_max}x{n_max}, by R_LRS: {listed}. {_mechanism('high_lrs')}")


def _bits_needed(rows: Rows, base_pct: float, tolerance: float) -> int | None:
    """Fewest ADC bits whose accuracy is not below base - tolerance beyond the noise (its
    Wilson upper bound reaches base - tolerance)."""
    ok = [r["adc_bits"] for r in rows if r["accuracy_ci_high_pct"] >= base_pct - tolerance]
    return min(ok) if ok else None


def _adc(config: CimConfig, fig4: Rows, baselines: Mapping[str, float]) -> list[str]:
    out = []
    f = paper()["findings"]["adc_bits"]
    for quant in config.quants:
        base = baselines[quant]
        parts, calibrated_ok = [], []
        for cal in (True, False):
            need: dict[str, int | None] = {}
            for enc in ENCODINGS_FOR[quant]:
                rows = [r for r in fig4 if r["quant"] == quant and r["calibrated"] == cal
                        and r["encoding"] == enc]
                bits = _bits_needed(rows, base, ADC_TOLERANCE_PCT)
                need[enc] = bits
                if cal:
                    calibrated_ok.append(bits is not None and bits <= 4)
            parts.append(f"{'calibrated' if cal else 'uncalibrated'}: " + ", ".join(
                f"{e} {n if n is not None else '>' + str(max(config.adc_bits))} bits"
                for e, n in need.items()))
        verdict = "holds" if all(calibrated_ok) else "does not hold"
        out.append(f"- **{quant}: {f['claim']} ({base:.1f} %)** ({f['paper']}): **4 bits "
                   f"suffice with calibration: {verdict}**. " + "; ".join(parts) + " (an "
                   "accuracy counts as within 2 points unless its 95 % upper bound is below).")
    return out


def _energy(config: CimConfig, energy: Rows) -> list[str]:
    out = []
    f = paper()["findings"]["efficiency"]
    for quant in config.quants:
        pts = sorted((r["crossbar"], r["mac_per_joule"], r["column_utilisation"],
                      r["mac_per_joule_constant_rd"])
                     for r in energy if r["quant"] == quant
                     and r["encoding"] == ENERGY_ENCODING[quant])
        gains = [b[1] / a[1] for a, b in itertools.pairwise(pts)]
        gains_c = [b[3] / a[3] for a, b in itertools.pairwise(pts)]
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
            every = "holds" if all(r > 0 for r in ratio) else "does not hold"
            out.append(f"{_head('tnn_energy')}: TNN less efficient at every crossbar size: "
                       f"**{every}**; TNN (T-I) is {100 * np.mean(ratio):.0f} % less "
                       f"efficient than BNN (B-I) on average over crossbar sizes "
                       f"({_mechanism('tnn_energy')}). Energies follow from the operand "
                       "statistics, not from right or wrong answers: no binomial noise.")
    return out


def findings(config: CimConfig, rows: Rows, baselines: Mapping[str, float]) -> list[str]:
    """One Markdown bullet per checked trend, with its verdict and evidence."""
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
