"""Paper-ready figures (matplotlib, Agg), the same for meliso's studies and for your sweeps.

    from meliso.analysis import plots
    fig, caption = plots.overlaid_densities([("EpiRAM", errors_a), ("Ag:a-Si", errors_b)])
    plots.figure_problems(fig)          # [] when every panel is labelled and legends are clear
    plots.save_figure(fig, "figures/devices")       # figures/devices.png and .pdf

- :func:`overlaid_densities`: populations on one shared error axis, with box plots below
  (Chowdhury et al. 2024, Fig. 5); :func:`histogram_grid`: one panel per population with its
  best-fit density, shared axis (Figs. 2-4); :func:`spread_against`: median, IQR and
  2.5-97.5 % bands and the variance against a swept parameter; :func:`box_plots`.
- Style (:mod:`.style`): Okabe-Ito colours with markers (:func:`series_style`), axis labels
  with units and legends in words for sweep parameters (:func:`axis_label`,
  :func:`value_label`, :func:`settings_label`), :func:`save_figure` (PNG and PDF).
- :func:`pulse_response`: a device's LTP/LTD curves with their C-to-C band and data.
- :func:`figure_problems`: the structural checks every meliso figure passes.

Every builder returns ``(figure, caption)``; the caption says what the axes leave out.
"""

from .check import INSET, figure_problems
from .devices import pulse_response
from .populations import box_plots, error_axis, histogram_grid, overlaid_densities, spread_against
from .style import (
    DENSITY_LABEL,
    ERROR_LABEL,
    PALETTE,
    axis_label,
    axis_values,
    figure_legend,
    save_figure,
    series_style,
    settings_label,
    value_label,
)

__all__ = ["DENSITY_LABEL", "ERROR_LABEL", "INSET", "PALETTE", "axis_label", "axis_values",
           "box_plots", "error_axis", "figure_legend", "figure_problems", "histogram_grid",
           "overlaid_densities", "pulse_response",
           "save_figure", "series_style", "settings_label", "spread_against", "value_label"]
