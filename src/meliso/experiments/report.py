"""Figures and ``report.md`` of a run directory, rebuilt from its stored results only.

``meliso report RUN_DIR`` calls :func:`build_report`; nothing is simulated again. Figures:

- ``figures/spread``: spread against the first numeric sweep axis, one series per value of the
  other axes (when the sweep has a numeric axis);
- ``figures/histograms``: every point's error histogram with its best-fit density;
- ``figures/boxes``: box plots of every point.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from .._validation import ParameterError
from .._yaml import load_yaml_text
from ..analysis.plots import fit_from_record, plot_boxes, plot_histograms, plot_spread
from .store import read_results

MAX_PANELS = 24
TABLE_STATS = ("n", "n_nonfinite", "mean", "variance", "skewness", "kurtosis", "median", "iqr",
               "p2_5", "p97_5")


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A GitHub-flavoured Markdown table of ``columns`` from ``rows``."""
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "".join("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |\n" for r in rows)
    return head + body


def point_label(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "base"


def _numeric_axis(rows: list[dict[str, Any]], axes: list[str]) -> str | None:
    for axis in axes:
        values = [r["params"].get(axis) for r in rows]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            if len(set(values)) > 1:
                return axis
    return None


def _errors(root: Path, row: dict[str, Any]) -> np.ndarray:
    path = root / "errors" / f"{row['key']}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path} is damaged ({exc}): run the experiment again to "
                             "recompute it") from None


def build_report(run_dir: str | Path) -> Path:
    """Rebuild ``figures/`` and ``report.md`` of ``run_dir`` from results.parquet."""
    root = Path(run_dir)
    cfg_path = root / "config.yaml"
    if not cfg_path.exists():
        raise ParameterError(f"{root} has no config.yaml: is it a meliso run directory?")
    try:
        config = load_yaml_text(cfg_path.read_text(), str(cfg_path))
    except OSError as exc:
        raise ParameterError(f"{cfg_path} cannot be read: {exc.strerror}") from None
    if not isinstance(config, dict) or not {"name", "trials", "rows", "cols", "seed"} <= set(
            config):
        raise ParameterError(f"{cfg_path} is not a meliso experiment configuration")
    all_rows = read_results(root)
    failed = [r for r in all_rows if r.get("status") == "failed"]
    rows = [r for r in all_rows if r.get("status") != "failed"]
    axes = list(config.get("sweep", {}).get("grid", {})) + list(
        config.get("sweep", {}).get("zip", {}))
    fig_dir = root / "figures"
    figures: list[tuple[str, str]] = []

    x_axis = _numeric_axis(rows, axes) if rows else None
    if x_axis is not None:
        groups: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}
        for r in rows:
            others = {k: v for k, v in r["params"].items() if k != x_axis}
            xs, st = groups.setdefault(point_label(others), ([], []))
            xs.append(float(r["params"][x_axis]))
            st.append(r)
        for xs, st in groups.values():
            order = np.argsort(xs)
            xs[:], st[:] = [xs[i] for i in order], [st[i] for i in order]
        values = [v for xs, _ in groups.values() for v in xs]
        logx = min(values) > 0 and max(values) / min(values) > 50
        plot_spread(groups, fig_dir / "spread", xlabel=x_axis, title=config["name"], logx=logx)
        figures.append(("Spread against " + x_axis, "figures/spread.png"))

    shown = rows[:MAX_PANELS]
    if shown:
        panels = [(point_label(r["params"]), _errors(root, r),
                   fit_from_record(r.get("best_fit"), r.get("best_fit_params"))) for r in shown]
        plot_histograms(panels, fig_dir / "histograms")
        figures.append(("Error histograms with the best-fit density", "figures/histograms.png"))
        plot_boxes([point_label(r["params"]) for r in shown], shown, fig_dir / "boxes",
                   title=config["name"])
        figures.append(("Box plots (whiskers at 1.5 IQR)", "figures/boxes.png"))

    lines = [f"# {config['name']}\n", f"{config.get('description', '')}\n",
             f"{len(all_rows)} points, {config['trials']} trials of {config['rows']}x"
             f"{config['cols']} each, seed {config['seed']}. Base: `{config.get('base')}`.\n",
             "## Results\n",
             markdown_table(rows, list(dict.fromkeys([*axes, "device", "model", *TABLE_STATS,
                                                     "best_fit"])))]
    if failed:
        lines += [f"\n## Failed points ({len(failed)})\n",
                  "These points produced no finite output; they are left out of the table "
                  "and the figures.\n", markdown_table(failed, [*axes, "failure"])]
    if any("sq_error_share_smallest_span_1pct" in r for r in rows):
        lines += ["\n### Calibration diagnostics\n",
                  markdown_table(rows, [*axes, "sign_flip_fraction", "zero_span_rows",
                                        "sq_error_share_smallest_span_1pct"])]
    lines.append("\n## Figures\n")
    lines += [f"### {title}\n\n![{title}]({path})\n" for title, path in figures]
    if len(rows) > MAX_PANELS:
        lines.append(f"\n(The histogram and box figures show the first {MAX_PANELS} points.)\n")
    lines.append("\nBest fit: lowest BIC among the converged fits (meliso.analysis.fits).\n")
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path
