"""Structural checks of a figure, before anyone has to look at it: every panel labelled, no empty
panel, legends inside the figure and off the data.

:func:`figure_problems` draws the figure and returns a list of problems in words (empty when the
figure passes). The tests run it on every figure meliso writes; users can run it on their own.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import BboxBase

#: An axes whose label is this is an inset: it needs no axis labels of its own.
INSET = "inset"


def _has_data(ax: Axes) -> bool:
    lines = [ln for ln in ax.get_lines() if len(np.asarray(ln.get_xdata())) > 0]
    patches = [p for p in ax.patches if not (isinstance(p, Rectangle) and p.get_width() == 0)]
    return bool(lines or patches or ax.collections or ax.images or ax.containers)


def _twin_of(ax: Axes, axes: list[Axes]) -> Axes | None:
    for other in axes:
        if other is not ax and other.bbox.bounds == ax.bbox.bounds:
            return other
    return None


def _data_points(ax: Axes) -> np.ndarray:
    """Display coordinates of the plotted points of ``ax`` (lines and scatter offsets)."""
    pts = []
    for line in ax.get_lines():
        if not isinstance(line, Line2D) or not line.get_visible():
            continue
        xy = np.column_stack([np.asarray(line.get_xdata(), float),
                              np.asarray(line.get_ydata(), float)])
        if len(xy):
            pts.append(ax.transData.transform(xy[np.all(np.isfinite(xy), axis=1)]))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), float) if isinstance(coll, Collection) \
            else np.zeros((0, 2))
        if len(offsets):
            pts.append(coll.get_offset_transform().transform(offsets))
    return np.concatenate(pts) if pts else np.zeros((0, 2))


def _legend_problems(legend: Legend, fig_box: BboxBase, axes: list[Axes], where: str
                     ) -> list[str]:
    box = legend.get_window_extent()
    out = []
    if not (fig_box.x0 - 1 <= box.x0 and box.x1 <= fig_box.x1 + 1
            and fig_box.y0 - 1 <= box.y0 and box.y1 <= fig_box.y1 + 1):
        out.append(f"{where}: the legend reaches outside the figure")
    for ax in axes:
        pts = _data_points(ax)
        inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0)
                  & (pts[:, 1] < box.y1)) if len(pts) else np.zeros(0, bool)
        if inside.any():
            out.append(f"{where}: the legend covers {int(inside.sum())} plotted points")
    return out


def _figure_label(fig: Figure, attr: str) -> bool:
    """Whether the figure has a shared axis label (``fig.supxlabel``/``fig.supylabel``)."""
    label = getattr(fig, attr, None)
    return label is not None and bool(label.get_text())


def figure_problems(fig: Figure) -> list[str]:
    """What is wrong with ``fig`` as a paper figure (empty list: nothing found)."""
    fig.canvas.draw()
    fig_box = fig.bbox
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    shared_x = _figure_label(fig, "_supxlabel")
    shared_y = _figure_label(fig, "_supylabel")
    problems = []
    for k, ax in enumerate(axes):
        name = f"panel {k + 1}" + (f" ({ax.get_title()})" if ax.get_title() else "")
        if not _has_data(ax) and _twin_of(ax, axes) is None:
            problems.append(f"{name}: empty")
            continue
        if ax.get_label() == INSET:
            continue
        twin = _twin_of(ax, axes)
        if not ax.get_xlabel() and not shared_x and not (twin is not None
                                                         and twin.get_xlabel()):
            if ax.xaxis.get_visible() and any(t.get_text() for t in ax.get_xticklabels()):
                problems.append(f"{name}: the x axis has no label")
        if not ax.get_ylabel() and not shared_y and ax.yaxis.get_visible() and any(
                t.get_text() for t in ax.get_yticklabels()):
            problems.append(f"{name}: the y axis has no label")
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            problems += _legend_problems(legend, fig_box, [ax], name)
    for legend in fig.legends:
        problems += _legend_problems(legend, fig_box, axes, "figure legend")
    return problems
