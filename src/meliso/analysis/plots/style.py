"""One look for every figure: a colour-blind-safe palette with markers, words for axes and
legends, figure sizes for paper columns, and writing PNG + PDF.

The palette is Okabe and Ito's eight colours (distinguishable with every common colour-vision
deficiency); series beyond eight also change marker, and beyond that line style, so every
series of a figure is told apart by more than colour.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..._io import atomic_write_bytes

#: Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish green, reddish purple,
#: orange, sky blue, yellow, black.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
#: Width of one and of two columns of a paper, inches.
ONE_COLUMN_IN = 3.5
TWO_COLUMNS_IN = 7.2

ERROR_LABEL = "error e = y − A·x (units of A·x)"
DENSITY_LABEL = "density (per unit of A·x)"

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "figure.dpi": 150, "savefig.dpi": 300,
    "savefig.bbox": "tight", "axes.spines.top": False, "axes.spines.right": False,
    "legend.frameon": False, "lines.linewidth": 1.2, "lines.markersize": 3.5,
    "pdf.fonttype": 42,
})


def series_style(index: int) -> dict[str, Any]:
    """Colour, marker and line style of the ``index``-th series of a figure."""
    n = len(PALETTE)
    return {"color": PALETTE[index % n], "marker": MARKERS[(index // n + index) % len(MARKERS)],
            "linestyle": LINESTYLES[(index // (n * len(MARKERS))) % len(LINESTYLES)]}


def _percent(v: Any) -> str:
    return f"σ_C2C = {100 * float(v):g} %"


#: sweep parameter -> (axis label with unit, how a value reads in a legend)
QUANTITIES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "weight_bits": ("weight bits b (2^b conductance states)", lambda v: f"{v} bits"),
    "memory_window": ("memory window G_max / G_min", lambda v: f"window {v:g}"),
    "on_off_ratio": ("memory window G_max / G_min", lambda v: f"window {v:g}"),
    "nl": ("non-linearity |NL| (NL_LTP = +NL, NL_LTD = −NL)", lambda v: f"|NL| = {v:g}"),
    "c2c": ("cycle-to-cycle variation σ_C2C (% of G_max − G_min)", _percent),
    "sigma_c2c": ("cycle-to-cycle variation σ_C2C (% of G_max − G_min)", _percent),
    "r_p_ohm": ("wire resistance R_p per segment (Ω)", lambda v: f"R_p = {v:g} Ω"),
    "r_bitline_ohm": ("bit-line resistance per segment (Ω)", lambda v: f"{v:g} Ω bit line"),
    "r_wordline_ohm": ("word-line resistance per segment (Ω)", lambda v: f"{v:g} Ω word line"),
    "adc_bits": ("ADC resolution (bits)", lambda v: f"{v}-bit ADC"),
    "crossbar": ("crossbar size N (N × N cells)", lambda v: f"{v}×{v}"),
    "input_bits": ("input bits", lambda v: f"{v}-bit inputs"),
    "levels_ltp": ("conductance states (potentiation)", lambda v: f"{v} states"),
    "levels_ltd": ("conductance states (depression)", lambda v: f"{v} states"),
    "nl_ltp": ("non-linearity NL_LTP", lambda v: f"NL_LTP = {v:g}"),
    "nl_ltd": ("non-linearity NL_LTD", lambda v: f"NL_LTD = {v:g}"),
    "with_nl": ("non-linearity", lambda v: "with non-linearity" if v else
                "without non-linearity"),
    "nonideal": ("non-idealities", lambda v: "with NL and C-to-C" if v else
                 "without NL and C-to-C"),
    "model": ("read model", lambda v: f"{v} model"),
    "device": ("device", str),
    "encoding": ("input encoding", lambda v: f"encoding {v}"),
    "calibrated": ("ADC calibration", lambda v: "calibrated" if v else "uncalibrated"),
}


def axis_label(name: str) -> str:
    """A sweep parameter as an axis label, with its unit."""
    return QUANTITIES.get(name, (name.replace("_", " "), str))[0]


def axis_values(name: str, values: Any) -> Any:
    """Values of a sweep parameter in the unit of its axis label (C-to-C in %)."""
    if name in ("c2c", "sigma_c2c"):
        return [100 * float(v) for v in values]
    return values


def value_label(name: str, value: Any) -> str:
    """One setting as a legend reads it: ``with_nl=False`` -> "without non-linearity"."""
    if name in QUANTITIES:
        return QUANTITIES[name][1](value)
    return f"{name.replace('_', ' ')} = {value}"


def settings_label(settings: dict[str, Any]) -> str:
    """Several settings as one legend entry (in words, joined by commas)."""
    return ", ".join(value_label(k, v) for k, v in settings.items()) or "all points"


def panel_grid(n: int, ncols: int, panel_in: tuple[float, float]) -> tuple[int, int, float,
                                                                            float]:
    """(rows, cols, width, height) of a grid of ``n`` panels, at most two columns wide."""
    cols = max(1, min(ncols, n))
    rows = math.ceil(max(n, 1) / cols)
    width = min(TWO_COLUMNS_IN, panel_in[0] * cols)
    return rows, cols, width, panel_in[1] * rows * width / (panel_in[0] * cols)


def figure_legend(fig: Figure, handles: list[Any] | None = None,
                  labels: list[str] | None = None, *, where: str = "lower center",
                  max_cols: int = 4) -> None:
    """One legend for the whole figure, outside the panels (``where``: "lower center" or
    "upper center"), with as many columns as fit the figure's width (at most ``max_cols``)."""
    if handles is None or labels is None:
        handles, labels = [], []
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels and not lab.startswith("_"):
                    handles.append(h)
                    labels.append(lab)
    if not labels:
        return
    loc: Any = f"outside {where}"
    width = fig.bbox.width
    for ncols in range(min(max_cols, len(labels)), 0, -1):
        legend = fig.legend(handles, labels, loc=loc, ncols=ncols)
        if ncols == 1 or legend.get_window_extent().width <= 0.98 * width:
            return
        legend.remove()


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf atomically; close the figure."""
    paths = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext)
        path = Path(f"{stem}.{ext}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths
