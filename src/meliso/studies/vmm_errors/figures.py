"""Figures of the MELISO study: the paper's Figs. 2-5, per read model, from the stored runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...analysis.plots import fit_from_record, plot_boxes, plot_histograms, plot_spread
from .findings import DEVICES, Rows, select


def study_figures(root: Path, results: dict[str, Rows], models: list[str]) -> list[tuple[str, str]]:
    fig_dir = root / "figures"
    out: list[tuple[str, str]] = []
    sweeps = (("fig2a", "weight_bits", None, False), ("fig2b", "memory_window", None, True),
              ("fig3", "nl", None, False), ("fig4", "c2c", "with_nl", False))
    for name, x, group, logx in sweeps:
        for model in models:
            rows = select(results[name], model=model)
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
            rows = sorted(select(results["table2"], model=model, nonideal=nonideal),
                          key=lambda r: DEVICES.index(r["device"]))
            panels = [(r["device"], _errors(root, "table2", r),
                       fit_from_record(r.get("best_fit"), r.get("best_fit_params")))
                      for r in rows]
            plot_histograms(panels, fig_dir / f"{tag}_{model}")
            what = "with" if nonideal else "without"
            out.append((f"{tag}, {model}: the four devices {what} non-idealities",
                        f"figures/{tag}_{model}.png"))
        rows = sorted(select(results["table2"], model=model),
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


