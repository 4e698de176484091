"""What the analog-network study's points show, with the numbers and the test images' noise.

Every comparison of two accuracies is a paired test on the same test images: the per-image
outcomes of both points (``_correct``, chips x images, attached by the report from the stored
predictions) through :func:`meliso.analysis.stats.paired_sign_flip_p` (the exact McNemar test
with one chip), at 95 %; a difference inside it is reported as *within noise*. Rows without
per-image outcomes (runs stored before they were kept) fall back to the unpaired
two-proportion test (:func:`meliso.analysis.stats.proportions_differ`). Accuracies are means
over the programmed chips.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...analysis.stats import paired_sign_flip_p, proportions_differ

Rows = list[dict[str, Any]]
#: Accuracy loss (points) within which a setting counts as good as the reference.
TOLERANCE_PCT = 1.0
OFF_LABELS = {"nl": "non-linearity", "c2c": "cycle-to-cycle variation",
              "levels": "number of states", "all": "all three"}


def same_value(a: Any, b: Any) -> bool:
    """Whether two swept values are the same (numbers read back from Parquet as text)."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def pick(rows: Rows, net: str, device: str, variant: str, value: Any = None) -> dict[str, Any]:
    """The row of (net, device, variant, value)."""
    for r in rows:
        if (r["net"], r["device"], r["variant"]) == (net, device, variant) and (
                value is None or same_value(r["value"], value)):
            return r
    raise KeyError((net, device, variant, value))


#: Significance level of every comparison.
LEVEL = 0.95


def differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two points' accuracies differ beyond the test images' noise (paired where both
    carry per-image outcomes on the same images, see the module docstring)."""
    ca, cb = a.get("_correct"), b.get("_correct")
    la, lb = a.get("_labels"), b.get("_labels")
    same_images = la is None or lb is None or np.array_equal(la, lb)
    if ca is not None and cb is not None and ca.shape[1] == cb.shape[1] and same_images:
        return paired_sign_flip_p(ca, cb) < 1 - LEVEL
    return proportions_differ(int(a["correct"]), int(a["n_images"]), int(b["correct"]),
                              int(b["n_images"]), level=LEVEL)


def _fmt(r: dict[str, Any]) -> str:
    return f"{r['accuracy_pct']:.1f} %"


def limiting(rows: Rows, net: str, device: str) -> dict[str, Any]:
    """Which non-ideality limits the device: the one whose removal gains the most accuracy
    beyond noise (or none)."""
    base = pick(rows, net, device, "baseline")
    gains = {}
    for what in ("nl", "c2c", "levels"):
        off = pick(rows, net, device, "off", what)
        gains[what] = (off["accuracy_pct"] - base["accuracy_pct"], differs(off, base), off)
    real = {k: v for k, v in gains.items() if v[1] and v[0] > 0}
    software = base["software_accuracy_pct"]
    if not real:
        verdict = "none beyond noise"
    else:
        verdict = OFF_LABELS[max(real, key=lambda k: real[k][0])]
    parts = "; ".join(f"without {OFF_LABELS[k]} {_fmt(v[2])} ({v[0]:+.1f} points"
                      f"{'' if v[1] else ', within noise'})" for k, v in gains.items())
    allof = pick(rows, net, device, "off", "all")
    return {"net": net, "device": device, "limited by": verdict,
            "text": f"{device}, {net}: {_fmt(base)} as published, software {software:.1f} %; "
                    f"{parts}; all three off {_fmt(allof)}."}


def programming_gain(rows: Rows, net: str, device: str) -> str:
    base = pick(rows, net, device, "baseline")
    wv = pick(rows, net, device, "programming", "write-verify")
    gain = wv["accuracy_pct"] - base["accuracy_pct"]
    noise = "" if differs(wv, base) else ", within noise"
    return (f"write-and-verify {_fmt(wv)} against open loop {_fmt(base)} ({gain:+.1f} points"
            f"{noise}; {wv['verify_iterations_mean']:.1f} writes per cell on average)")


def hwa_recovery(rows: Rows, net: str, device: str) -> str | None:
    try:
        hwa = pick(rows, net, device, "hwa")
    except KeyError:
        return None
    base = pick(rows, net, device, "baseline")
    gap = base["software_accuracy_pct"] - base["accuracy_pct"]
    gain = hwa["accuracy_pct"] - base["accuracy_pct"]
    share = f"{100 * gain / gap:.0f} % of the gap to software" if gap > TOLERANCE_PCT else \
        "no gap to software to recover"
    noise = "" if differs(hwa, base) else ", within noise"
    return (f"hardware-aware fine-tuning {_fmt(hwa)} against {_fmt(base)} ({gain:+.1f} points"
            f"{noise}; {share})")


def fewest(rows: Rows, net: str, device: str, variant: str, reference: dict[str, Any],
           ascending: bool = True) -> Any:
    """The least demanding swept value whose mean accuracy stays within
    :data:`TOLERANCE_PCT` of ``reference`` (None if none does)."""
    mine = sorted((r for r in rows if (r["net"], r["device"], r["variant"])
                   == (net, device, variant)), key=lambda r: float(r["value"]),
                  reverse=not ascending)
    for r in mine:
        if reference["accuracy_pct"] - r["accuracy_pct"] <= TOLERANCE_PCT:
            return r["value"]
    return None


def adc_range(rows: Rows, net: str, device: str) -> str | None:
    """The calibrated ADC's accuracy with the largest-signal range against eq. 7's 3-sigma
    range, at the bits both were run with."""
    eq7 = [r for r in rows if (r["net"], r["device"], r["variant"]) == (net, device,
                                                                       "adc_3sigma")]
    parts = []
    for r in sorted(eq7, key=lambda r: -float(r["value"])):
        try:
            mx = pick(rows, net, device, "adc_bits", r["value"])
        except KeyError:
            continue
        noise = "" if differs(mx, r) else ", within noise"
        gain = mx["accuracy_pct"] - r["accuracy_pct"]
        parts.append(f"{float(r['value']):g} bits: {_fmt(mx)} with the largest-signal range, "
                     f"{_fmt(r)} with eq. 7's mean ± 3σ ({gain:+.1f} points{noise})")
    return "ADC ranges: " + "; ".join(parts) if parts else None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def findings(rows: Rows) -> tuple[list[dict[str, Any]], list[str]]:
    """The summary table (one row per network and device) and the report's lines."""
    table, lines = [], []
    keys = list(dict.fromkeys((r["net"], r["device"]) for r in rows))
    for net, device in keys:
        lim = limiting(rows, net, device)
        base = pick(rows, net, device, "baseline")
        levels_off = pick(rows, net, device, "off", "levels")
        bits = fewest(rows, net, device, "weight_bits", levels_off)
        adc = fewest(rows, net, device, "adc_bits", base)
        c2c = fewest(rows, net, device, "c2c", pick(rows, net, device, "c2c", 0.0),
                     ascending=False)
        table.append({"network": net, "device": device,
                      "accuracy as published": f"{base['accuracy_pct']:.1f} ± "
                                               f"{base['chip_std_pct']:.1f} %",
                      "software": f"{base['software_accuracy_pct']:.1f} %",
                      "limited by": lim["limited by"],
                      "weight bits needed": "more than swept" if bits is None else bits,
                      "ADC bits needed": "more than swept" if adc is None else adc,
                      "C-to-C tolerated": "none swept" if c2c is None else
                      f"{100 * float(c2c):g} %"})
        hwa = hwa_recovery(rows, net, device)
        ranges = adc_range(rows, net, device)
        lines.append(f"- **{device}, {net}: limited by {lim['limited by']}.** "
                     f"{lim['text'].split(': ', 1)[1]} "
                     f"{_sentence(programming_gain(rows, net, device))}"
                     + (f" {_sentence(hwa)}" if hwa else "")
                     + (f" {_sentence(ranges)}" if ranges else ""))
    return table, lines
