"""Presets as data: the ten devices, citations, overrides, validation messages."""

import pytest

from meliso import ParameterError
from meliso.devices import TABLE_I, TABLE_III, AnalogDevice, BinaryDevice, all_presets, get_device

SEED_000_TABLE_I = {  # levels, NL LTP/LTD, R_on, memory window, C-to-C
    "Ag:a-Si": (97, 100, 2.4, -4.88, 26e6, 12.5, 0.035),
    "TaOx/HfOx": (128, 128, 0.04, -0.63, 100e3, 10, 0.037),
    "AlOx/HfO2": (40, 40, 1.94, -0.61, 16.9e3, 4.43, 0.05),
    "EpiRAM": (64, 64, 0.5, -0.5, 81e3, 50.2, 0.02),
}
SEED_003_TABLE_III = {
    "ReRAM-1": (1e4, 1e5), "PCM": (4e4, 1.76e6), "ReRAM-2": (5e4, 4e5),
    "Perovskite": (2e5, 2.5e6), "IFG": (1e7, 2e7),
}


def test_ten_presets_with_citations():
    presets = all_presets()
    assert set(presets) == {*SEED_000_TABLE_I, *SEED_003_TABLE_III, "ideal"}
    assert len(presets) == 10
    for dev in presets.values():
        assert len(dev.citation) > 20


@pytest.mark.parametrize("name", TABLE_I)
def test_table_i_values(name):
    d = get_device(name)
    assert (d.levels_ltp, d.levels_ltd, d.nl_ltp, d.nl_ltd, d.r_on_ohm, d.on_off_ratio,
            d.sigma_c2c) == SEED_000_TABLE_I[name]
    assert d.r_access_ohm == 15e3 and d.v_read_v == 0.5
    assert d.sigma_d2d == 0 and d.sigma_read == 0


@pytest.mark.parametrize("name", TABLE_III)
def test_table_iii_values(name):
    d = get_device(name)
    assert isinstance(d, BinaryDevice)
    assert (d.r_lrs_ohm, d.r_hrs_ohm) == SEED_003_TABLE_III[name]


def test_ideal_preset():
    d = get_device("ideal")
    assert (d.levels_ltp, d.levels_ltd) == (2048, 2048)  # 11 bits
    assert d.on_off_ratio == 1e3 and d.nl_ltp == d.nl_ltd == 0 and d.sigma_c2c == 0
    assert d.shape_ltp() == float("inf")


def test_overrides_by_field_name():
    d = get_device("ag:a-si", nl_ltp=0, nl_ltd=0, sigma_c2c=0, on_off_ratio=100, weight_bits=6)
    assert isinstance(d, AnalogDevice)
    assert (d.nl_ltp, d.sigma_c2c, d.on_off_ratio, d.levels_ltp, d.levels_ltd) == (
        0, 0, 100, 64, 64)
    assert d.name == "Ag:a-Si" and d.r_on_ohm == 26e6
    again = get_device(d, sigma_d2d=0.1)
    assert again.sigma_d2d == 0.1 and again.on_off_ratio == 100
    assert d.g_max_s == pytest.approx(1 / 26e6) and d.g_min_s == pytest.approx(1 / 26e6 / 100)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"sigma_c2c": -0.1}, r"sigma_c2c = -0\.1 is out of range: allowed 0 <= sigma_c2c <= 1"),
        ({"on_off_ratio": 1.0}, r"on_off_ratio = 1\.0 is out of range: allowed 1 < on_off_ratio"),
        ({"levels_ltp": 0}, r"levels_ltp = 0 is out of range: allowed 1 <= levels_ltp"),
        ({"nl_ltd": -12}, r"nl_ltd = -12 is out of range: allowed -9\.0 <= nl_ltd <= 9\.0"),
        ({"r_on_ohm": 0}, r"r_on_ohm = 0 is out of range: allowed 1 <= r_on_ohm <= 1e\+12"),
        ({"r_on_ohm": 1e-300}, r"r_on_ohm = 1e-300 is out of range: allowed 1 <= r_on_ohm"),
        ({"v_read_v": 1e-300}, r"v_read_v = 1e-300 is out of range: allowed 0\.001 <= v_read_v"),
        ({"levels_ltp": True}, r"levels_ltp = True: Input should be a valid integer"),
        ({"weight_bits": True}, r"weight_bits = True is out of range"),
        ({"g_init_frac": 2}, r"g_init_frac = 2 is out of range: allowed 0 <= g_init_frac <= 1"),
        ({"sigma_c2c": "lots"}, r"sigma_c2c = 'lots'.*allowed 0 <= sigma_c2c <= 1"),
        ({"weight_bits": 0}, r"weight_bits = 0 is out of range: allowed integer 1 <= weight_bits"),
        ({"nl": 1}, r"unknown field 'nl'; valid fields are: .*nl_ltd, nl_ltp"),
    ],
)
def test_bad_parameters_name_the_field_and_its_range(overrides, pattern):
    with pytest.raises(ParameterError, match=pattern):
        get_device("Ag:a-Si", **overrides)


def test_unknown_preset_and_binary_constraints():
    with pytest.raises(ParameterError, match="unknown device preset 'HfO9'; available presets"):
        get_device("HfO9")
    with pytest.raises(ParameterError, match=r"r_hrs_ohm .* must exceed r_lrs_ohm"):
        get_device("PCM", r_hrs_ohm=1e3)
    with pytest.raises(ParameterError, match="weight_bits applies to analog devices only"):
        get_device("PCM", weight_bits=3)


def test_presets_are_frozen():
    d = get_device("EpiRAM")
    with pytest.raises(Exception, match="frozen"):
        d.sigma_c2c = 0.1  # type: ignore[misc]
