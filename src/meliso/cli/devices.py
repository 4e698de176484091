"""``meliso devices``: the device presets and their parameters."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..devices import AnalogDevice, all_presets
from ._app import app
from ._common import JsonOpt, SeedOpt, command, out, show, table, title


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


device_app = typer.Typer(help="Your own device: fit measured pulse responses, show a device.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(device_app, name="device")

Data = Annotated[str, typer.Argument(help="CSV of conductance after each pulse (long form: "
                                     "pulse, direction, conductance_s[, cycle, device]; or "
                                     "two columns up, down)")]
OutFile = Annotated[str | None, typer.Option(help="device file to write (.yaml); default: "
                                             "DATA's name with .yaml, in this folder")]
Units = Annotated[str, typer.Option(help="units of the conductances: S | mS | uS | nS | "
                                    "normalised (then --g-min-s and --g-max-s)")]
GMin = Annotated[float | None, typer.Option(help="G_min of normalised data, S")]
GMax = Annotated[float | None, typer.Option(help="G_max of normalised data, S")]
Name = Annotated[str | None, typer.Option(help="the device's name (default: the file's)")]
Resamples = Annotated[int, typer.Option(min=0, max=10_000, help="parametric bootstrap "
                                        "resamples behind the standard errors")]
VRead = Annotated[float, typer.Option(help="read voltage of the device, V")]
RAccess = Annotated[float, typer.Option(help="access-transistor resistance in series, ohm")]
ForceFile = Annotated[bool, typer.Option("--force", help="replace a device file meliso wrote")]


@command("fit", group=device_app)
def fit(data: Data, out: OutFile = None, units: Units = "S", g_min_s: GMin = None,
        g_max_s: GMax = None, name: Name = None, v_read_v: VRead = 0.5,
        r_access_ohm: RAccess = 0.0, resamples: Resamples = 100, seed: SeedOpt = 0,
        force: ForceFile = False, as_json: JsonOpt = False) -> None:
    """Fit NeuroSim's device model to measured LTP/LTD pulse trains; write a device file."""
    from ..devices.device_fit import fit_file

    result = fit_file(data, out=out, units=units, g_min_s=g_min_s, g_max_s=g_max_s, name=name,
                      v_read_v=v_read_v, r_access_ohm=r_access_ohm, resamples=resamples,
                      seed=seed, force=force)
    show(f"device fit: {result['device']['name']}", result if as_json else _flat(result), as_json,
         notes=list(result["warnings"]) or ["no warnings: the data look like the model"])


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    """The fit as one table: the device's fields, then each branch's statistics."""
    rows: dict[str, Any] = {"device file": result["file"]}
    rows.update({k: v for k, v in result["device"].items()
                 if k in ("r_on_ohm", "on_off_ratio", "levels_ltp", "levels_ltd", "nl_ltp",
                          "nl_ltd", "sigma_c2c", "sigma_d2d")})
    fit = result["fit"]
    if fit["devices"] > 1:
        lo, hi = fit["sigma_d2d_ci"]
        rows["sigma_d2d 95 % interval"] = f"{lo:.3g} … {hi:.3g} ({fit['devices']} devices)"
    for branch in ("ltp", "ltd"):
        b = fit[branch]
        rows[f"{branch} NL [95 %]"] = _ci(b["nl_label"], b["nl_label_ci"], b["nl_label_se"], 3)
        rows[f"{branch} sigma_c2c [95 %]"] = _ci(b["sigma_c2c"], b["sigma_c2c_ci"],
                                                 b["sigma_c2c_se"], 4)
        rows[f"{branch} N (pulses)"] = (f"{b['levels']:.4g} ({b['levels_source']}, "
                                       f"LR p = {b['levels_test_p']:.2g})")
        rows[f"{branch} R^2"] = round(b["r2"], 4)
        rows[f"{branch} Ljung-Box p"] = round(b["ljung_box_p"], 4)
    rows["warnings"] = len(result["warnings"])
    return rows


def _ci(value: float, ci: list[float], se: float, digits: int) -> str:
    """``value [lo, hi]`` and the bootstrap standard error when there is one."""
    text = f"{value:.{digits}g} [{ci[0]:.{digits}g}, {ci[1]:.{digits}g}]"
    return text if se != se else f"{text} (se {se:.2g})"  # se != se: NaN, no bootstrap


DeviceName = Annotated[str, typer.Argument(help="a preset name or a device file (.yaml)")]
Figure = Annotated[str | None, typer.Option(help="write the pulse-response figure here "
                                            "(.png and .pdf)")]
DataOpt = Annotated[str | None, typer.Option("--data", help="measured traces to draw on top "
                                             "(default: the data file a device file names)")]
Cycles = Annotated[int, typer.Option(min=10, max=100_000, help="simulated cycles behind the "
                                     "C-to-C band")]


@command("show", group=device_app)
def show_cmd(device: DeviceName, figure: Figure = None, data: DataOpt = None,
             cycles: Cycles = 200, seed: SeedOpt = 0, force: ForceFile = False,
             as_json: JsonOpt = False) -> None:
    """A device's fields, and its LTP/LTD pulse response as a figure (--figure)."""
    from ..devices.device_fit import show_device

    result = show_device(device, data=data, out=figure, cycles=cycles, seed=seed, force=force)
    record = dict(result["device"])
    if "figure" in result:
        record["figure"] = ", ".join(result["figure"])
    show(f"device {record['name']}", result if as_json else record, as_json,
         notes=[result["caption"]] if "caption" in result else None)
