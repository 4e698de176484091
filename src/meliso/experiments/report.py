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
from ..analysis.fits import family_name, fit_from_record
from ..analysis.plots import (
    axis_label,
    box_plots,
    histogram_grid,
    save_figure,
    settings_label,
    spread_against,
)
from .html import write_html_report
from .store import read_results

MAX_PANELS = 24
TABLE_STATS = ("n", "n_nonfinite", "mean", "variance [95 % CI]", "skewness", "kurtosis",
               "median", "IQR [95 % CI]", "p2_5", "p97_5")


def with_interval(row: dict[str, Any], key: str) -> str:
    """``value [low, high]`` of a statistic with a stored interval, else the value."""
    value, lo, hi = row.get(key), row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if not isinstance(value, float) or not math.isfinite(value):
        return _fmt(value)
    if not (isinstance(lo, float) and isinstance(hi, float) and math.isfinite(lo)
            and math.isfinite(hi)):
        return _fmt(value)
    return f"{value:.4g} [{lo:.4g}, {hi:.4g}]"


def _table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "variance [95 % CI]": with_interval(r, "variance"),
             "IQR [95 % CI]": with_interval(r, "iqr"), "best_fit": family_name(r.get("best_fit"))}
            for r in rows]


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


def _figures(root: Path, rows: list[dict[str, Any]], axes: list[str], name: str
             ) -> list[tuple[str, str, str]]:
    """The run's figures (PNG and PDF in ``figures/``): (title, path, caption) each."""
    fig_dir, out = root / "figures", []
    x_axis = _numeric_axis(rows, axes) if rows else None
    if x_axis is not None:
        groups: dict[str, tuple[list[float], list[dict[str, Any]]]] = {}
        for r in sorted(rows, key=lambda r: float(r["params"][x_axis])):
            others = {k: v for k, v in r["params"].items() if k != x_axis}
            xs, st = groups.setdefault(settings_label(others), ([], []))
            xs.append(float(r["params"][x_axis]))
            st.append(r)
        values = [v for xs, _ in groups.values() for v in xs]
        logx = min(values) > 0 and max(values) / min(values) > 50
        fig, caption = spread_against(groups, x_name=x_axis, title=name, logx=logx)
        save_figure(fig, fig_dir / "spread")
        out.append((f"Spread against {axis_label(x_axis)}", "figures/spread.png", caption))
    shown = rows[:MAX_PANELS]
    if shown:
        labels = [settings_label(r["params"]) for r in shown]
        panels = [(lab, _errors(root, r), fit_from_record(r.get("best_fit"),
                                                         r.get("best_fit_params")))
                  for lab, r in zip(labels, shown, strict=True)]
        fig, caption = histogram_grid(panels)
        save_figure(fig, fig_dir / "histograms")
        out.append(("Error histograms with the best-fit density", "figures/histograms.png",
                    caption + " Solid line: the best fit by BIC."))
        fig, caption = box_plots(labels, shown, title=name)
        save_figure(fig, fig_dir / "boxes")
        out.append(("Box plots", "figures/boxes.png", caption))
    return out


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
    figures = _figures(root, rows, axes, config["name"])
    lines = [f"# {config['name']}\n", f"{config.get('description', '')}\n",
             f"{len(all_rows)} points, {config['trials']} trials of {config['rows']}x"
             f"{config['cols']} each, seed {config['seed']}. Base: `{config.get('base')}`.\n",
             "## Results\n",
             markdown_table(_table_rows(rows), list(dict.fromkeys([*axes, "device", "model",
                                                                  *TABLE_STATS,
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
    lines += [f"### {title}\n\n![{title}]({path})\n\n{caption}\n"
              for title, path, caption in figures]
    if len(rows) > MAX_PANELS:
        lines.append(f"\n(The histogram and box figures show the first {MAX_PANELS} points.)\n")
    lines.append("\nBest fit: lowest BIC among the converged fits (meliso.analysis.fits).\n")
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    write_html_report(path, title=str(config["name"]))
    return path
