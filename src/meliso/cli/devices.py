"""``meliso devices``: the device presets and their parameters."""

from __future__ import annotations

from ..devices import AnalogDevice, all_presets
from ._common import JsonOpt, command, out, show, table, title


@command()
def devices(as_json: JsonOpt = False) -> None:
    """List the device presets and their parameters (every field and citation: --json)."""
    presets = all_presets()
    if as_json:
        show("", {name: dev.model_dump() for name, dev in presets.items()}, True)
        return
    analog = table(["name", "R_on (Ω)", "on/off", "levels LTP/LTD", "NL LTP/LTD", "C-to-C",
                    "R_access (Ω)", "V_read (V)"])
    binary = table(["name", "technology", "R_LRS (Ω)", "R_HRS (Ω)", "V_read (V)"])
    for name, dev in presets.items():
        if isinstance(dev, AnalogDevice):
            analog.add_row(name, f"{dev.r_on_ohm:.3g}", f"{dev.on_off_ratio:g}",
                           f"{dev.levels_ltp}/{dev.levels_ltd}", f"{dev.nl_ltp:g}/{dev.nl_ltd:g}",
                           f"{100 * dev.sigma_c2c:g} %", f"{dev.r_access_ohm:.3g}",
                           f"{dev.v_read_v:g}")
        else:
            binary.add_row(name, dev.technology, f"{dev.r_lrs_ohm:.3g}", f"{dev.r_hrs_ohm:.3g}",
                           f"{dev.v_read_v:g}")
    title("Analog devices (multilevel, NeuroSim-compatible)")
    out.print(analog)
    title("Binary devices (LRS/HRS)")
    out.print(binary)
    out.print("Citations: meliso devices --json")
