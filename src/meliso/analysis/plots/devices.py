"""A device's pulse response: LTP then LTD against pulse number, the model's mean curve with
its cycle-to-cycle band, and measured traces on top (``meliso device show``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .style import ONE_COLUMN_IN, figure_legend, series_style


def _si_scale(g_max: float) -> tuple[float, str]:
    for factor, unit in ((1e-3, "mS"), (1e-6, "µS"), (1e-9, "nS")):
        if g_max >= factor:
            return factor, unit
    return 1e-12, "pS"


def pulse_response(ltp: tuple[ArrayLike, ArrayLike, ArrayLike],
                   ltd: tuple[ArrayLike, ArrayLike, ArrayLike], *, name: str,
                   sigma_c2c: float, data: Sequence[tuple[str, ArrayLike]] = ()
                   ) -> tuple[Figure, str]:
    """``ltp``/``ltd``: (median, 5th, 95th percentile) conductance after each pulse, siemens;
    ``data``: measured traces ("ltp"|"ltd", conductances). LTD is drawn after LTP on one pulse
    axis, as devices are measured."""
    import matplotlib.pyplot as plt

    med_p, lo_p, hi_p = (np.asarray(a, dtype=float) for a in ltp)
    med_d, lo_d, hi_d = (np.asarray(a, dtype=float) for a in ltd)
    factor, unit = _si_scale(float(max(hi_p.max(), hi_d.max())))
    fig, ax = plt.subplots(layout="constrained", figsize=(ONE_COLUMN_IN * 1.4, 2.8))
    n_p = med_p.size - 1
    xs = (np.arange(med_p.size), n_p + np.arange(med_d.size))
    for k, (x, med, lo, hi, label) in enumerate((
            (xs[0], med_p, lo_p, hi_p, "potentiation (LTP)"),
            (xs[1], med_d, lo_d, hi_d, "depression (LTD)"))):
        style = series_style(k)
        ax.plot(x, med / factor, color=style["color"], lw=1.3, label=f"{label}: model median")
        ax.fill_between(x, lo / factor, hi / factor, color=style["color"], alpha=0.22, lw=0,
                        label=f"{label}: 5-95 % over cycles")
    shown = False
    for direction, g in data:
        g = np.asarray(g, dtype=float)
        x = np.arange(g.size) + (0 if direction == "ltp" else n_p)
        ax.plot(x, g / factor, ls="none", marker=".", ms=2.0, color="0.25", alpha=0.5,
                label="measured" if not shown else "_")
        shown = True
    ax.set_xlabel("pulse number")
    ax.set_ylabel(f"conductance ({unit})")
    ax.set_title(name)
    figure_legend(fig, max_cols=2)
    caption = (f"{name}: conductance after each pulse, potentiation from G_min then depression "
               f"from G_max; line: the model's median, band: 5-95 % of simulated cycles with "
               f"its cycle-to-cycle variation (σ_C2C = {100 * sigma_c2c:.3g} % of the window "
               "per pulse)" + ("; dots: the measured traces" if data else "") + ".")
    return fig, caption
