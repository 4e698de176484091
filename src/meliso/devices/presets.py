"""Literature device presets, as data, each with its citation.

Analog devices: Chowdhury et al. 2024, Table I (levels, NL labels, R_on, memory window, C-to-C)
completed from the NeuroSim V3.0 manual as MELISO uses it (read 0.5 V, 15 kOhm 1T1R access
transistor, write pulses; ``docs/physics.md``, presets). Binary devices: Cubero-Cascante
et al. 2025, Table III (LRS/HRS), read at 0.2 V as in CIM-Explorer's public LeNet-5 settings.
``ideal`` is meliso's reference device: linear, no variation, 11 weight bits, memory window 1e3, no
access resistance.

Every field of a preset can be overridden by name through :func:`get_device`, e.g.
``get_device("Ag:a-Si", nl_ltp=0, nl_ltd=0, sigma_c2c=0, on_off_ratio=100)``; ``weight_bits=b``
sets both level counts to 2**b.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import ParameterError, validate_model
from .analog import MAX_WEIGHT_BITS, AnalogDevice
from .binary import BinaryDevice
from .device_file import is_device_path, load_device_file

Device = AnalogDevice | BinaryDevice

_NEUROSIM = "parameters as in MLP+NeuroSim V3.0 (Luo, Peng, Yu, ICONS 2019)"

_ANALOG: dict[str, dict[str, Any]] = {
    "Ag:a-Si": dict(
        citation="S. H. Jo et al., Nano Lett. 10(4), 1297-1301 (2010), doi:10.1021/nl904092h; "
        + _NEUROSIM,
        r_on_ohm=26e6, on_off_ratio=12.5, levels_ltp=97, levels_ltd=100,
        nl_ltp=2.40, nl_ltd=-4.88, sigma_c2c=0.035,
        write_v_ltp_v=3.2, write_pulse_ltp_sec=300e-6,
        write_v_ltd_v=-2.8, write_pulse_ltd_sec=300e-6,
    ),
    "TaOx/HfOx": dict(
        citation="W. Wu et al., 2018 IEEE Symp. VLSI Technology, 103-104, "
        "doi:10.1109/VLSIT.2018.8510690; " + _NEUROSIM,
        r_on_ohm=100e3, on_off_ratio=10.0, levels_ltp=128, levels_ltd=128,
        nl_ltp=0.04, nl_ltd=-0.63, sigma_c2c=0.037,
        write_v_ltp_v=1.6, write_pulse_ltp_sec=50e-9,
        write_v_ltd_v=1.6, write_pulse_ltd_sec=50e-9,
    ),
    "AlOx/HfO2": dict(
        citation="J. Woo et al., IEEE Electron Device Lett. 37(8), 994-997 (2016), "
        "doi:10.1109/LED.2016.2582859; " + _NEUROSIM,
        r_on_ohm=16.9e3, on_off_ratio=4.43, levels_ltp=40, levels_ltd=40,
        nl_ltp=1.94, nl_ltd=-0.61, sigma_c2c=0.05,
        write_v_ltp_v=0.9, write_pulse_ltp_sec=100e-6,
        write_v_ltd_v=-1.0, write_pulse_ltd_sec=100e-6,
    ),
    "EpiRAM": dict(
        citation="S. Choi et al., Nat. Mater. 17(4), 335-340 (2018), "
        "doi:10.1038/s41563-017-0001-5; " + _NEUROSIM,
        r_on_ohm=81e3, on_off_ratio=50.2, levels_ltp=64, levels_ltd=64,
        nl_ltp=0.5, nl_ltd=-0.5, sigma_c2c=0.02,
        write_v_ltp_v=5.0, write_pulse_ltp_sec=5e-6,
        write_v_ltd_v=-3.0, write_pulse_ltd_sec=5e-6,
    ),
    "ideal": dict(
        citation="meliso reference device: linear, no variation, 11 weight bits, window 1e3",
        r_on_ohm=100e3, on_off_ratio=1e3, levels_ltp=2048, levels_ltd=2048,
        nl_ltp=0.0, nl_ltd=0.0, sigma_c2c=0.0, r_access_ohm=0.0,
    ),
}
#: Chowdhury et al. 2024, Table I devices: read 0.5 V through a 15 kOhm access transistor (1T1R).
TABLE_I = ("Ag:a-Si", "TaOx/HfOx", "AlOx/HfO2", "EpiRAM")
for _name in TABLE_I:
    _ANALOG[_name].update(r_access_ohm=15e3, v_read_v=0.5)

_BINARY: dict[str, dict[str, Any]] = {
    "ReRAM-1": dict(
        technology="ReRAM", r_lrs_ohm=1.0e4, r_hrs_ohm=1.0e5,
        citation="M. Prezioso et al., Nature 521, 61-64 (2015), doi:10.1038/nature14441",
    ),
    "PCM": dict(
        technology="PCM", r_lrs_ohm=4.0e4, r_hrs_ohm=1.76e6,
        citation="V. Joshi et al., Nat. Commun. 11, 2473 (2020), doi:10.1038/s41467-020-16108-9",
    ),
    "ReRAM-2": dict(
        technology="ReRAM", r_lrs_ohm=5.0e4, r_hrs_ohm=4.0e5,
        citation="P. Yao et al., Nature 577, 641-646 (2020), doi:10.1038/s41586-020-1942-4",
    ),
    "Perovskite": dict(
        technology="Charge-trapping", r_lrs_ohm=2.0e5, r_hrs_ohm=2.5e6,
        citation="L. Chen et al., Small Methods 8(2), 2300040 (2024), "
        "doi:10.1002/smtd.202300040",
    ),
    "IFG": dict(
        technology="Floating-gate", r_lrs_ohm=1.0e7, r_hrs_ohm=2.0e7,
        citation="E. J. Fuller et al., Science 364, 570-574 (2019), doi:10.1126/science.aaw5581",
    ),
}
#: Cubero-Cascante et al. 2025, Table III technologies.
TABLE_III = tuple(_BINARY)


def preset_names() -> list[str]:
    """Names of all presets: the analog ones, then the binary ones."""
    return [*_ANALOG, *_BINARY]


def _canonical(name: str) -> str:
    key = name.strip().lower()
    for known in preset_names():
        if known.lower() == key:
            return known
    raise ParameterError(
        f"unknown device preset '{name}'; available presets: {', '.join(preset_names())}"
    )


def get_device(device: str | Device, /, **overrides: Any) -> Device:
    """A preset (by name, case-insensitive) or an existing device, with fields overridden.

    ``weight_bits=b`` is shorthand for ``levels_ltp = levels_ltd = 2**b`` (analog devices,
    1 <= b <= 52; 52 bits is exact to float64 round-off). Unknown fields and out-of-range
    values raise :class:`ParameterError`, naming the field and its allowed range.
    """
    if isinstance(device, AnalogDevice | BinaryDevice):
        base: dict[str, Any] = device.model_dump()
        model: type[AnalogDevice] | type[BinaryDevice] = type(device)
    elif is_device_path(device):  # a device file (meliso device fit) where a name goes
        file_device = load_device_file(device)
        base, model = file_device.model_dump(), AnalogDevice
    else:
        name = _canonical(device)
        if name in _ANALOG:
            base, model = {"name": name, **_ANALOG[name]}, AnalogDevice
        else:
            base, model = {"name": name, **_BINARY[name]}, BinaryDevice
    overrides = dict(overrides)
    if "weight_bits" in overrides:
        bits = overrides.pop("weight_bits")
        if model is not AnalogDevice:
            raise ParameterError("weight_bits applies to analog devices only")
        if isinstance(bits, bool) or not isinstance(bits, int | float) \
                or not 1 <= bits <= MAX_WEIGHT_BITS or int(bits) != bits:
            raise ParameterError(
                f"weight_bits = {bits!r} is out of range: allowed integer 1 <= weight_bits <= "
                f"{MAX_WEIGHT_BITS}")
        overrides["levels_ltp"] = overrides["levels_ltd"] = 2 ** int(bits)
    return validate_model(model, {**base, **overrides})


def all_presets() -> Mapping[str, Device]:
    """Every preset, keyed by name."""
    return {name: get_device(name) for name in preset_names()}
