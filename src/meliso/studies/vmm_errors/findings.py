"""The findings of Chowdhury et al. 2024 (MELISO), checked against both read models.

Each finding of the paper (its claim and the mechanism behind what each model does, in
``findings.yaml``, a data file beside this module) names a test here that decides its verdict on
the study's results, run separately for the ``physics`` and the ``neurosim`` model. Verdicts use
the interquartile range (IQR) as the measure of spread, because the neurosim model's calibrated
errors have Cauchy-like tails whose sample variance does not settle (``meliso.core.decode``);
variances are reported beside it. The mechanisms come from the analyses in
``tests/test_population.py``, ``meliso.core.decode`` and ``docs/neurosim.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from scipy import stats

from ..._validation import ParameterError
from ..._yaml import load_yaml_text
from ...analysis.fits import family_name

Rows = list[dict[str, Any]]
DEVICES = ("Ag:a-Si", "TaOx/HfOx", "AlOx/HfO2", "EpiRAM")


def select(rows: Rows, **match: Any) -> Rows:
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
    """A claim of the paper, how to test it on one model's results, and the mechanisms."""

    label: str
    claim: str
    test: Callable[[dict[str, Rows], str], Verdict]
    mechanism: dict[str, str]


def _trend(name: str, x: str, sign: int, min_ratio: float) -> Callable[[dict[str, Rows], str],
                                                                       Verdict]:
    def test(results: dict[str, Rows], model: str) -> Verdict:
        xs, iqr = _curve(select(results[name], model=model), x)
        _, var = _curve(select(results[name], model=model), x, "variance")
        rho = _rho(xs, iqr)
        ratio = iqr[-1] / iqr[0] if iqr[0] > 0 else math.inf
        big = ratio > min_ratio if sign > 0 else ratio < 1 / min_ratio
        evidence = (f"IQR {iqr[0]:.3g} at {x} = {xs[0]:g} -> {iqr[-1]:.3g} at {xs[-1]:g} "
                    f"(Spearman rho {rho:+.2f}); variance {var[0]:.3g} -> {var[-1]:.3g}")
        return _v([sign * rho > 0.7, big], evidence)
    return test


def _nl_shape(results: dict[str, Rows], model: str) -> Verdict:
    rows = [r for r in select(results["fig3"], model=model) if float(r["nl"]) > 0]
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
        xs, iqr = _curve(select(results["fig4"], model=model, with_nl=with_nl), "c2c")
        rho = _rho(xs, iqr)
        ok.append(rho > 0.7 and iqr[-1] > iqr[0])
        parts.append(f"{'with' if with_nl else 'without'} NL: IQR {iqr[0]:.3g} -> {iqr[-1]:.3g}"
                     f" (rho {rho:+.2f})")
    return _v(ok, "; ".join(parts))


def _nl_raises_c2c_variance(results: dict[str, Rows], model: str) -> Verdict:
    rows = select(results["fig4"], model=model)
    xs, without = _curve(select(rows, with_nl=False), "c2c")
    _, with_ = _curve(select(rows, with_nl=True), "c2c")
    _, v_without = _curve(select(rows, with_nl=False), "c2c", "variance")
    _, v_with = _curve(select(rows, with_nl=True), "c2c", "variance")
    n_iqr = int((with_ > without).sum())
    n_var = int((v_with > v_without).sum())
    return Verdict(n_iqr, len(xs), f"IQR with NL above IQR without at {n_iqr} of {len(xs)} "
                   f"C-to-C values; variance with NL above at {n_var} of {len(xs)}")


def _ranking(nonideal: bool) -> Callable[[dict[str, Rows], str], Verdict]:
    """EpiRAM narrowest and AlOx/HfO2 widest, by IQR."""
    def test(results: dict[str, Rows], model: str) -> Verdict:
        rows = select(results["table2"], model=model, nonideal=nonideal)
        iqr = {r["device"]: float(r["iqr"]) for r in rows}
        order = sorted(iqr, key=iqr.__getitem__)
        return _v([order[0] == "EpiRAM", order[-1] == "AlOx/HfO2"],
                  f"IQR order {' < '.join(order)} "
                  f"({', '.join(f'{d} {iqr[d]:.3g}' for d in order)})")
    return test


def _variance_order(results: dict[str, Rows], model: str) -> Verdict:
    parts, ok = [], []
    for nonideal in (False, True):
        rows = select(results["table2"], model=model, nonideal=nonideal)
        var = {r["device"]: float(r["variance"]) for r in rows}
        ok.append(var["AlOx/HfO2"] > var["Ag:a-Si"] > var["TaOx/HfOx"])
        parts.append(f"{'with' if nonideal else 'without'}: AlOx {var['AlOx/HfO2']:.3g}, "
                     f"Ag {var['Ag:a-Si']:.3g}, TaOx {var['TaOx/HfOx']:.3g}")
    return _v(ok, "; ".join(parts))


def _alox_improves(results: dict[str, Rows], model: str) -> Verdict:
    rows = select(results["table2"], model=model, device="AlOx/HfO2")
    by = {r["nonideal"]: r for r in rows}
    v0, v1 = float(by[False]["variance"]), float(by[True]["variance"])
    k0, k1 = float(by[False]["kurtosis"]), float(by[True]["kurtosis"])
    return _v([v1 < v0, k1 < k0], f"variance {v0:.3g} -> {v1:.3g}, kurtosis {k0:.3g} -> "
                   f"{k1:.3g} when the non-idealities are switched on")


def _not_normal(results: dict[str, Rows], model: str) -> Verdict:
    rows = select(results["table2"], model=model)
    fits = {f"{r['device']}{' (non-ideal)' if r['nonideal'] else ''}":
            family_name(r.get("best_fit")) for r in rows}
    n_other = sum(1 for f in fits.values() if f != family_name("normal"))
    listed = ", ".join(f"{k} {v}" for k, v in fits.items())
    return Verdict(n_other, len(fits), f"best fits: {listed}")


def _kurtosis_ag(results: dict[str, Rows], model: str) -> Verdict:
    rows = select(results["table2"], model=model, nonideal=True)
    kurt = {r["device"]: float(r["kurtosis"]) for r in rows}
    top = max(kurt, key=kurt.__getitem__)
    return _v([top == "Ag:a-Si"], f"excess kurtosis with non-idealities: "
                   f"{', '.join(f'{d} {k:.3g}' for d, k in kurt.items())}")


TESTS: dict[str, Callable[[dict[str, Rows], str], Verdict]] = {
    "weight_bits_trend": _trend("fig2a", "weight_bits", -1, 2.0),
    "memory_window_trend": _trend("fig2b", "memory_window", -1, 1.25),
    "nl_shape": _nl_shape,
    "c2c_rises": _c2c_rises,
    "nl_raises_c2c_variance": _nl_raises_c2c_variance,
    "ranking_ideal": _ranking(False),
    "ranking_nonideal": _ranking(True),
    "variance_order": _variance_order,
    "alox_improves": _alox_improves,
    "kurtosis_ag": _kurtosis_ag,
    "not_normal": _not_normal,
}


def load_findings() -> tuple[Finding, ...]:
    """The findings of ``findings.yaml``, each with its test."""
    text = (resources.files(__package__) / "findings.yaml").read_text(encoding="utf-8")
    entries = load_yaml_text(text, "findings.yaml")
    out = []
    for entry in entries:
        if entry["test"] not in TESTS:
            raise ParameterError(f"findings.yaml: unknown test {entry['test']!r}; allowed: "
                                 f"{', '.join(TESTS)}")
        out.append(Finding(entry["label"], entry["claim"], TESTS[entry["test"]],
                           dict(entry["mechanism"])))
    return tuple(out)


FINDINGS = load_findings()
