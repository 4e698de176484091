"""The MELISO study's report: seed findings checked against both models, with figures.

Each finding of seed 000 becomes a test on the study's results, run separately for the
``physics`` and the ``neurosim`` model. Verdicts use the interquartile range (IQR) as the measure
of spread, because the neurosim model's calibrated errors have Cauchy-like tails whose sample
variance does not settle (``meliso.core.decode``); variances are reported beside it. Each
finding states the mechanism behind what each model does, from the analyses in
``tests/test_population.py``, ``meliso.core.decode`` and ``neurosim-read-path.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .._io import atomic_write_text
from ..analysis.plots import fit_from_record, plot_boxes, plot_histograms, plot_spread
from .report import markdown_table

Rows = list[dict[str, Any]]
DEVICES = ("Ag:a-Si", "TaOx/HfOx", "AlOx/HfO2", "EpiRAM")


def _sel(rows: Rows, **match: Any) -> Rows:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _curve(rows: Rows, x: str, key: str = "iqr") -> tuple[np.ndarray, np.ndarray]:
    pts = sorted((float(r[x]), float(r[key])) for r in rows)
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def _rho(xs: np.ndarray, ys: np.ndarray) -> float:
    if len(xs) < 3 or np.ptp(ys) == 0:
        return 0.0
    return float(stats.spearmanr(xs, ys).statistic)


@dataclass(frozen=True)
class Verdict:
    """``score``: how many of a finding's conditions hold, out of ``of``."""

    score: int
    of: int
    evidence: str

    @property
    def status(self) -> str:
        if self.score == self.of:
            return "reproduced"
        return "partly" if self.score > 0 else "not reproduced"


def _v(conditions: list[bool], evidence: str) -> Verdict:
    return Verdict(sum(conditions), len(conditions), evidence)


@dataclass(frozen=True)
class Finding:
    """A claim of the seed, how to test it on one model's results, and the mechanisms."""

    label: str
    claim: str
    test: Callable[[dict[str, Rows], str], Verdict]
    mechanism: dict[str, str]


def _trend(name: str, x: str, sign: int, min_ratio: float) -> Callable[[dict[str, Rows], str],
                                                                       Verdict]:
    def test(results: dict[str, Rows], model: str) -> Verdict:
        xs, iqr = _curve(_sel(results[name], model=model), x)
        _, var = _curve(_sel(results[name], model=model), x, "variance")
        rho = _rho(xs, iqr)
        ratio = iqr[-1] / iqr[0] if iqr[0] > 0 else math.inf
        big = ratio > min_ratio if sign > 0 else ratio < 1 / min_ratio
        evidence = (f"IQR {iqr[0]:.3g} at {x} = {xs[0]:g} -> {iqr[-1]:.3g} at {xs[-1]:g} "
                    f"(Spearman rho {rho:+.2f}); variance {var[0]:.3g} -> {var[-1]:.3g}")
        return _v([sign * rho > 0.7, big], evidence)
    return test


def _nl_shape(results: dict[str, Rows], model: str) -> Verdict:
    rows = [r for r in _sel(results["fig3"], model=model) if float(r["nl"]) > 0]
    xs, iqr = _curve(rows, "nl")
    _, var = _curve(rows, "nl", "variance")
    rho = _rho(xs, iqr)
    logv = np.log(var)
    r2_exp = float(np.corrcoef(xs, logv)[0, 1] ** 2)
    slope, _ = np.polyfit(np.log(xs), logv, 1)
    r2_pow = float(np.corrcoef(np.log(xs), logv)[0, 1] ** 2)
    evidence = (f"IQR rises monotonically: {'yes' if rho > 0.7 else 'no'} (rho {rho:+.2f}); "
                f"log variance against NL: R^2 {r2_exp:.3f} (exponential) vs against log NL: "
                f"R^2 {r2_pow:.3f} (power law, exponent {slope:.2f})")
    return _v([rho > 0.7, r2_exp > r2_pow], evidence)


def _c2c_rises(results: dict[str, Rows], model: str) -> Verdict:
    parts, ok = [], []
    for with_nl in (False, True):
        xs, iqr = _curve(_sel(results["fig4"], model=model, with_nl=with_nl), "c2c")
        rho = _rho(xs, iqr)
        ok.append(rho > 0.7 and iqr[-1] > iqr[0])
        parts.append(f"{'with' if with_nl else 'without'} NL: IQR {iqr[0]:.3g} -> {iqr[-1]:.3g}"
                     f" (rho {rho:+.2f})")
    return _v(ok, "; ".join(parts))


def _nl_raises_c2c_variance(results: dict[str, Rows], model: str) -> Verdict:
    rows = _sel(results["fig4"], model=model)
    xs, without = _curve(_sel(rows, with_nl=False), "c2c")
    _, with_ = _curve(_sel(rows, with_nl=True), "c2c")
    _, v_without = _curve(_sel(rows, with_nl=False), "c2c", "variance")
    _, v_with = _curve(_sel(rows, with_nl=True), "c2c", "variance")
    n_iqr = int((with_ > without).sum())
    n_var = int((v_with > v_without).sum())
    return Verdict(n_iqr, len(xs), f"IQR with NL above IQR without at {n_iqr} of {len(xs)} "
                   f"C-to-C values; variance with NL above at {n_var} of {len(xs)}")


def _ranking(nonideal: bool) -> Callable[[dict[str, Rows], str], Verdict]:
    """EpiRAM narrowest and AlOx/HfO2 widest, by IQR."""
    def test(results: dict[str, Rows], model: str) -> Verdict:
        rows = _sel(results["table2"], model=model, nonideal=nonideal)
        iqr = {r["device"]: float(r["iqr"]) for r in rows}
        order = sorted(iqr, key=iqr.__getitem__)
        return _v([order[0] == "EpiRAM", order[-1] == "AlOx/HfO2"],
                  f"IQR order {' < '.join(order)} "
                  f"({', '.join(f'{d} {iqr[d]:.3g}' for d in order)})")
    return test


def _variance_order(results: dict[str, Rows], model: str) -> Verdict:
    parts, ok = [], []
    for nonideal in (False, True):
        rows = _sel(results["table2"], model=model, nonideal=nonideal)
        var = {r["device"]: float(r["variance"]) for r in rows}
        ok.append(var["AlOx/HfO2"] > var["Ag:a-Si"] > var["TaOx/HfOx"])
        parts.append(f"{'with' if nonideal else 'without'}: AlOx {var['AlOx/HfO2']:.3g}, "
                     f"Ag {var['Ag:a-Si']:.3g}, TaOx {var['TaOx/HfOx']:.3g}")
    return _v(ok, "; ".join(parts))


def _alox_improves(results: dict[str, Rows], model: str) -> Verdict:
    rows = _sel(results["table2"], model=model, device="AlOx/HfO2")
    by = {r["nonideal"]: r for r in rows}
    v0, v1 = float(by[False]["variance"]), float(by[True]["variance"])
    k0, k1 = float(by[False]["kurtosis"]), float(by[True]["kurtosis"])
    return _v([v1 < v0, k1 < k0], f"variance {v0:.3g} -> {v1:.3g}, kurtosis {k0:.3g} -> "
                   f"{k1:.3g} when the non-idealities are switched on")


def _not_normal(results: dict[str, Rows], model: str) -> Verdict:
    rows = _sel(results["table2"], model=model)
    fits = {f"{r['device']}{' (non-ideal)' if r['nonideal'] else ''}": r.get("best_fit")
            for r in rows}
    n_other = sum(1 for f in fits.values() if f != "normal")
    listed = ", ".join(f"{k} {v}" for k, v in fits.items())
    return Verdict(n_other, len(fits), f"best fits: {listed}")


def _kurtosis_ag(results: dict[str, Rows], model: str) -> Verdict:
    rows = _sel(results["table2"], model=model, nonideal=True)
    kurt = {r["device"]: float(r["kurtosis"]) for r in rows}
    top = max(kurt, key=kurt.__getitem__)
    return _v([top == "Ag:a-Si"], f"excess kurtosis with non-idealities: "
                   f"{', '.join(f'{d} {k:.3g}' for d, k in kurt.items())}")


FINDINGS = (
    Finding(
        "Fig. 2a", "Error magnitude and variance fall as the weight bits rise from 1 to 11.",
        _trend("fig2a", "weight_bits", -1, 2.0),
        {"physics": "Weight quantisation: every extra bit halves the level spacing, so the "
                    "spread halves per bit (2^-10 over the sweep) and is the only error left "
                    "with NL and C-to-C off.",
         "neurosim": "The same quantisation up to about 4 bits; from there on a floor set by "
                     "NeuroSim's initial state without +G_min (Q1): the offset -2/(on/off - 1) "
                     "makes the two-point calibration rescale each row's x-dependent part by "
                     "R/(2S), an error independent of the bits (it shrinks with the window, "
                     "Fig. 2b)."},
    ),
    Finding(
        "Fig. 2b", "Error falls as the memory window widens from 12.5.",
        _trend("fig2b", "memory_window", -1, 1.25),
        {"physics": "Not device physics: a differential read cancels the G_min current exactly "
                    "and every other error scales with G_max - G_min, so the window drops out "
                    "(through the access transistor a wider window even raises the compression "
                    "error slightly, which is negligible for Ag:a-Si's 26 MOhm).",
         "neurosim": "An artefact of NeuroSim's read path: the Q1 offset of every weight, "
                     "-2/(on/off - 1), shrinks as the window widens, and with it the per-row "
                     "gain error the two-point calibration leaves."},
    ),
    Finding(
        "Fig. 3", "Error rises with the non-linearity magnitude (0 to 5), its variance "
                  "exponentially.",
        _nl_shape,
        {"physics": "Open-loop programming sends the linear pulse count; the curve's deviation "
                    "from the line grows about linearly in the NL label, so the weight error "
                    "does and the variance grows about as NL^2, a power law rather than an "
                    "exponential.",
         "neurosim": "NeuroSim's own read does follow NL (uncalibrated IQR, offset removed, "
                     "0.03 -> 0.77 for NL 0 -> 5), but MELISO's two-point calibration both adds "
                     "its own R/(2S) error (IQR 0.36 at NL = 0) and corrects part of each row's "
                     "NL gain error (0.77 -> 0.42 at NL = 5), so the calibrated spread barely "
                     "follows NL (tests/test_findings.py measures this)."},
    ),
    Finding(
        "Fig. 4a/b", "Error rises with C-to-C variation from 0 to 5 %, without and with NL.",
        _c2c_rises,
        {"physics": "Each programming event adds Normal(0, sigma (G_max - G_min)) sqrt(pulses); "
                    "the output variance is n E[x^2] sigma^2 N / 2 (checked within 3 % in the "
                    "tests), so it grows as sigma^2.",
         "neurosim": "The same C-to-C noise (its distribution matches MELISO's build), added to "
                     "the calibration error; with NL the calibration error dominates and the "
                     "C-to-C term shows only at the largest sigma."},
    ),
    Finding(
        "Fig. 4c", "Non-linearity raises the error variance at every C-to-C level.",
        _nl_raises_c2c_variance,
        {"physics": "NL adds a systematic weight error independent of the C-to-C noise, so the "
                    "variances add.",
         "neurosim": "As for physics in the IQR; the sample variances are set by a few "
                     "calibration rows and do not order reliably."},
    ),
    Finding(
        "Fig. 5a", "Without non-idealities, EpiRAM has the narrowest distribution and "
                   "AlOx/HfO2 the widest.",
        _ranking(False),
        {"physics": "With NL and C-to-C off, quantisation and the 15 kOhm access transistor "
                    "remain; the transistor compresses the read current by R_acc/R_on, so the "
                    "order is Ag:a-Si (26 MOhm) < TaOx/HfOx (100 kOhm) < EpiRAM (81 kOhm) < "
                    "AlOx/HfO2 (16.9 kOhm): AlOx widest, but EpiRAM not narrowest.",
         "neurosim": "EpiRAM's large window makes its Q1 offset small (-0.04), so its rows keep "
                     "their x-dependence through the calibration (IQR ~0.29 against ~1.3); "
                     "the other three lose it and share the IQR of sum_k A_ik (x_k - 1/2)."},
    ),
    Finding(
        "Fig. 5b", "With non-idealities, EpiRAM performs best and AlOx/HfO2 worst.",
        _ranking(True),
        {"physics": "C-to-C noise dominates: per weight a variance of about sigma^2 N / 2, "
                    "i.e. 0.013 for EpiRAM against 0.05-0.09 for the others, whose clipping "
                    "at the window edges and compression bring them within a few per cent of "
                    "each other.",
         "neurosim": "EpiRAM keeps its small offset; the other three are set by the "
                     "calibration error, which hides their device differences."},
    ),
    Finding(
        "Table II (variance)", "Variance ranks AlOx/HfO2 > Ag:a-Si > TaOx/HfOx, with and "
                               "without non-idealities.",
        _variance_order,
        {"physics": "Without non-idealities the variances follow R_acc/R_on (Ag:a-Si "
                    "smallest); with them C-to-C dominates and the three lie within a few per "
                    "cent.",
         "neurosim": "The sample variances are dominated by the few rows whose calibration span "
                     "d - m is nearest zero (> 90 % of the squared error from 1 % of the rows) "
                     "and change by orders of magnitude between seeds; they cannot rank "
                     "devices."},
    ),
    Finding(
        "Table II (AlOx/HfO2)", "AlOx/HfO2 improves with non-idealities: lower variance and "
                                "kurtosis.",
        _alox_improves,
        {"physics": "Non-idealities only add error to a read that has no outlier mechanism.",
         "neurosim": "AlOx's calibration crossing sits at a row sum of +12.8 (3.9 sigma), so "
                     "its tail depends on whether a rare row lands near it; the variance and "
                     "kurtosis swing with that draw in either direction."},
    ),
    Finding(
        "Table II (kurtosis)", "Ag:a-Si with non-idealities has the highest kurtosis.",
        _kurtosis_ag,
        {"physics": "Every physics population is a sum of 32 independent cell errors, close to "
                    "normal (excess kurtosis ~0); no device stands out.",
         "neurosim": "Kurtosis is set by the calibration's near-zero spans, a property of the "
                     "row-sum distribution and each device's offset, not of its non-linearity."},
    ),
    Finding(
        "Table II (best fit)", "The errors are not normal: Johnson SU, SHASH and normal "
                               "mixtures fit best.",
        _not_normal,
        {"physics": "Sums of many independent cell errors are close to normal; BIC picks the "
                    "normal, or a family that nests it, where the data allow.",
         "neurosim": "The calibration's Cauchy-like tails make every population heavy-tailed; "
                     "Johnson SU (or a mixture) fits best, as the seed reports."},
    ),
)


def _figures(root: Path, results: dict[str, Rows], models: list[str]) -> list[tuple[str, str]]:
    fig_dir = root / "figures"
    out: list[tuple[str, str]] = []
    sweeps = (("fig2a", "weight_bits", None, False), ("fig2b", "memory_window", None, True),
              ("fig3", "nl", None, False), ("fig4", "c2c", "with_nl", False))
    for name, x, group, logx in sweeps:
        for model in models:
            rows = _sel(results[name], model=model)
            series: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}
            for r in sorted(rows, key=lambda r: float(r[x])):
                label = model if group is None else f"{group}={r[group]}"
                xs, st = series.setdefault(label, ([], []))
                xs.append(float(r[x]))
                st.append(r)
            stem = f"{name}_{model}"
            plot_spread(series, fig_dir / stem, xlabel=x, logx=logx,
                        title=f"{name}: {model} model")
            note = " (right panel: the variance comparison of Fig. 4c)" if name == "fig4" else ""
            out.append((f"{name}, {model}: spread against {x}{note}", f"figures/{stem}.png"))
            picks = [r for r in rows if r[x] in _ends(sorted({r[x] for r in rows}))]
            panels = [(_label(r, x, group), _errors(root, name, r),
                       fit_from_record(r.get("best_fit"), r.get("best_fit_params")))
                      for r in sorted(picks, key=lambda r: (str(r[group]) if group else "",
                                                            float(r[x])))]
            plot_histograms(panels, fig_dir / f"{stem}_hist")
            out.append((f"{name}, {model}: error histograms with the best fit",
                        f"figures/{stem}_hist.png"))
    for model in models:
        for nonideal, tag in ((False, "fig5a"), (True, "fig5b")):
            rows = sorted(_sel(results["table2"], model=model, nonideal=nonideal),
                          key=lambda r: DEVICES.index(r["device"]))
            panels = [(r["device"], _errors(root, "table2", r),
                       fit_from_record(r.get("best_fit"), r.get("best_fit_params")))
                      for r in rows]
            plot_histograms(panels, fig_dir / f"{tag}_{model}")
            what = "with" if nonideal else "without"
            out.append((f"{tag}, {model}: the four devices {what} non-idealities",
                        f"figures/{tag}_{model}.png"))
        rows = sorted(_sel(results["table2"], model=model),
                      key=lambda r: (r["nonideal"], DEVICES.index(r["device"])))
        labels = [f"{r['device']}{' NI' if r['nonideal'] else ''}" for r in rows]
        plot_boxes(labels, rows, fig_dir / f"fig5_boxes_{model}", title=f"{model} model")
        out.append((f"Fig. 5 insets, {model}: box plots (NI = with non-idealities)",
                    f"figures/fig5_boxes_{model}.png"))
    return out


def _ends(values: list[Any]) -> list[Any]:
    """Up to four values spread along a sorted list (first, last and two between)."""
    if len(values) <= 4:
        return values
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, 4)).astype(int))
    return [values[i] for i in idx]


def _label(r: dict[str, Any], x: str, group: str | None) -> str:
    return f"{x}={r[x]}" + (f", {group}={r[group]}" if group else "")


def _errors(root: Path, name: str, r: dict[str, Any]) -> np.ndarray:
    run = next(p for p in (root / name, root / f"{name}-quick") if p.exists())
    return np.load(run / "errors" / f"{r['key']}.npy")


def write_study_report(root: Path, results: dict[str, Rows], seed: Rows, *,
                       quick: bool = False) -> Path:
    """``report.md`` and ``figures/`` of the MELISO study in ``root``."""
    models = list(dict.fromkeys(r["model"] for r in results["table2"]))
    figures = _figures(root, results, models)
    trials = results["table2"][0]["trials"]
    lines = [
        "# The MELISO study (seed 000), physics beside NeuroSim\n",
        f"{trials} trials of 32x32 per point, A ~ U[-1, 1], x ~ U[0, 1]; every point "
        "multiplies the same population (common random numbers). Models: "
        f"{', '.join(models)}. `physics`: differential read, nominal decode. `neurosim`: "
        "MELISO's NeuroSim read path bit for bit, with its two-point calibration.\n",
    ]
    if quick:
        lines.append("**Quick run** (reduced trials): verdicts can differ from the full "
                     "study.\n")
    lines.append("## Table II: the seed beside both models\n")
    table = []
    for s in seed:
        row = {"device": s["device"], "nonideal": s["nonideal"], "seed best fit": s["best_fit"],
               "seed variance": s["variance"], "seed skewness": s["skewness"],
               "seed kurtosis": s["kurtosis"]}
        for model in models:
            (r,) = _sel(results["table2"], model=model, device=s["device"],
                        nonideal=s["nonideal"])
            row.update({f"{model} best fit": r.get("best_fit"),
                        f"{model} variance": r["variance"], f"{model} kurtosis": r["kurtosis"],
                        f"{model} IQR": r["iqr"]})
        table.append(row)
    lines.append(markdown_table(table, list(table[0])))
    lines.append("\nFull statistics: `table2.csv`, `fig2a.csv`, `fig2b.csv`, `fig3.csv`, "
                 "`fig4.csv`.\n")
    lines.append("## Seed findings: physics or NeuroSim artefact?\n")
    lines.append("Spread is judged by the IQR (robust to the calibration's heavy tails); "
                 "variances are given beside it. A finding is *reproduced* when all its "
                 "conditions hold, *partly* when some do.\n")
    summary = []
    for f in FINDINGS:
        verdicts = {m: f.test(results, m) for m in models}
        summary.append({"finding": f.label, "claim": f.claim,
                        **{m: v.status for m, v in verdicts.items()}})
        lines.append(f"### {f.label}: {f.claim}\n")
        for m, v in verdicts.items():
            lines.append(f"- **{m}: {v.status}** ({v.score} of {v.of} conditions). "
                         f"{v.evidence}. *Mechanism:* {f.mechanism[m]}")
        lines.append("")
    lines.insert(lines.index("## Seed findings: physics or NeuroSim artefact?\n") + 1,
                 markdown_table(summary, list(summary[0])) + "\n")
    lines.append("## Figures\n")
    lines += [f"### {title}\n\n![{title}]({path})\n" for title, path in figures]
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path
