"""Figures of the MELISO study, one per claim of Chowdhury et al. 2024 and read model: the
trends of Figs. 2-4 (spread against the swept parameter, with the variance and its interval),
the populations at the ends of each sweep on one shared axis, and Fig. 5's four devices
overlaid on one axis with their box plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...analysis.fits import fit_from_record
from ...analysis.plots import (
    histogram_grid,
    overlaid_densities,
    save_figure,
    settings_label,
    spread_against,
    value_label,
)
from .findings import DEVICES, Rows, select
from .layout import run_name

#: (experiment, swept parameter, grouping parameter, log x axis, what the paper's figure shows)
SWEEPS = (("fig2a", "weight_bits", None, False, "Fig. 2a: error against the weight bits"),
          ("fig2b", "memory_window", None, True, "Fig. 2b: error against the memory window"),
          ("fig3", "nl", None, False, "Fig. 3: error against the non-linearity"),
          ("fig4", "c2c", "with_nl", False, "Fig. 4: error against the C-to-C variation, "
                                            "without and with non-linearity"))
Figure = tuple[str, str, str]  # (title, path relative to the report, caption)


def _errors(root: Path, name: str, r: dict[str, Any]) -> np.ndarray:
    quick = (root / run_name(name, quick=True)).exists()
    return np.load(root / run_name(name, quick=quick) / "errors" / f"{r['key']}.npy")


def _ends(values: list[Any]) -> list[Any]:
    """Up to four values spread along a sorted list (first, last and two between)."""
    if len(values) <= 4:
        return values
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, 4)).astype(int))
    return [values[i] for i in idx]


def _sweep(root: Path, rows: Rows, name: str, x: str, group: str | None, logx: bool,
           title: str, model: str) -> list[Figure]:
    series: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}
    for r in sorted(rows, key=lambda r: float(r[x])):
        label = value_label("model", model) if group is None else value_label(group, r[group])
        xs, st = series.setdefault(label, ([], []))
        xs.append(float(r[x]))
        st.append(r)
    stem = f"{name}_{model}"
    fig, caption = spread_against(series, x_name=x, logx=logx, title=f"{title} ({model} model)")
    save_figure(fig, root / "figures" / stem)
    out = [(f"{title}, {model} model", f"figures/{stem}.png", caption)]
    picks = [r for r in rows if r[x] in _ends(sorted({r[x] for r in rows}))]
    picks.sort(key=lambda r: (str(r[group]) if group else "", float(r[x])))
    panels = [(settings_label({k: r[k] for k in (group, x) if k}), _errors(root, name, r),
               fit_from_record(r.get("best_fit"), r.get("best_fit_params"))) for r in picks]
    fig, caption = histogram_grid(panels)
    save_figure(fig, root / "figures" / f"{stem}_hist")
    out.append((f"{title}, {model} model: the populations at the ends of the sweep",
                f"figures/{stem}_hist.png", caption + " Solid line: the best fit by BIC."))
    return out


def study_figures(root: Path, results: dict[str, Rows], models: list[str]) -> list[Figure]:
    """Every figure of the study (PNG and PDF in ``root/figures``), with titles and captions."""
    out: list[Figure] = []
    for name, x, group, logx, title in SWEEPS:
        for model in models:
            out += _sweep(root, select(results[name], model=model), name, x, group, logx,
                          title, model)
    for model in models:
        for nonideal, tag in ((False, "fig5a"), (True, "fig5b")):
            rows = sorted(select(results["table2"], model=model, nonideal=nonideal),
                          key=lambda r: DEVICES.index(r["device"]))
            what = value_label("nonideal", nonideal)
            fig, caption = overlaid_densities(
                [(r["device"], _errors(root, "table2", r)) for r in rows],
                fits=[fit_from_record(r.get("best_fit"), r.get("best_fit_params")) for r in rows],
                title=f"Fig. 5{tag[-1]}: the four devices {what} ({model} model)")
            save_figure(fig, root / "figures" / f"{tag}_{model}")
            out.append((f"Fig. 5{tag[-1]}, {model} model: the four devices {what}",
                        f"figures/{tag}_{model}.png", caption))
    return out
