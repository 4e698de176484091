"""Any PyTorch network on multilevel analog crossbars (meliso.nn.to_analog): exact with ideal
hardware (float64 round-off, against the software model), every conv/dense feature, chips,
per-layer settings, ADC calibration, counters and energy against the periphery models, and
hardware-aware training's straight-through gradients."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch") if not os.environ.get("MELISO_REQUIRE_NN") else \
    __import__("torch")
from torch import nn  # noqa: E402

from meliso import ParameterError  # noqa: E402
from meliso.core import AnalogCore  # noqa: E402
from meliso.devices import get_device  # noqa: E402
from meliso.nn import AnalogLayer, build_float_model, to_analog  # noqa: E402
from meliso.periphery.energy import EnergyModel  # noqa: E402

#: An ideal device of 52 weight bits: weights rounded at float64's own resolution.
EXACT = get_device("ideal", weight_bits=52)


def _close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-12) -> None:
    scale = float(b.abs().max())
    assert float((a - b).abs().max()) <= rel * max(scale, 1e-300), (a - b).abs().max()


class ResidualNet(nn.Module):
    """A small ResNet: stem, one residual block with batch norm, grouped conv, head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.c1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding="same", groups=4)
        self.down = nn.Conv2d(8, 16, 1, stride=2)
        self.head = nn.Linear(16 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.stem(x))
        h = torch.relu(h + self.c2(torch.relu(self.bn(self.c1(h)))))  # the residual addition
        return self.head(torch.relu(self.down(h)).flatten(1))


@pytest.mark.parametrize("net", ["mlp", "lenet5", "resnet"])
def test_ideal_hardware_equals_the_software_model(net):
    """Reference: the software model itself. An ideal device (linear, 52 bits, no variation),
    no wires, analog inputs and an ideal ADC give its outputs to float64 round-off."""
    torch.manual_seed(0)
    if net == "resnet":
        model, x = ResidualNet(), torch.randn(4, 3, 8, 8)
        with torch.no_grad():  # batch norm with non-trivial statistics
            model.bn.running_mean.uniform_(-0.5, 0.5)
            model.bn.running_var.uniform_(0.5, 2.0)
    else:
        model = build_float_model(net, (1, 28, 28))
        x = torch.rand(6, 1, 28, 28)
    model = model.double().eval()
    x = x.double()
    hw = to_analog(model, EXACT)
    with torch.no_grad():
        _close(hw(x), model(x))
    assert len(hw.analog_layers()) == sum(isinstance(m, nn.Linear | nn.Conv2d)
                                          for m in model.modules())


@pytest.mark.parametrize("conv", [
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2),
         dilation=(1, 2), bias=True),
    dict(in_channels=6, out_channels=6, kernel_size=3, padding="same", groups=3, bias=False),
    dict(in_channels=4, out_channels=8, kernel_size=4, padding="same", dilation=1),
    dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, stride=3),
])
def test_every_conv_feature_is_exact_on_ideal_hardware(conv):
    torch.manual_seed(1)
    layer = nn.Conv2d(**conv).double()
    x = torch.randn(2, conv["in_channels"], 11, 9, dtype=torch.float64)
    with torch.no_grad():
        _close(to_analog(layer, EXACT)(x), layer(x))


def test_the_conversion_leaves_the_model_alone_and_takes_per_layer_settings():
    torch.manual_seed(2)
    model = build_float_model("mlp", (1, 8, 8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hw = to_analog(model, "EpiRAM", tile_rows=16, exclude=["3"],
                   layer_settings={"1": {"device": "Ag:a-Si", "input_bits": 6}})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert isinstance(model[1], nn.Linear) and isinstance(hw.network[1], AnalogLayer)
    assert isinstance(hw.network[3], nn.Linear)  # excluded: stays in software
    core = hw.network[1].cores[0]
    assert core.device.name == "Ag:a-Si" and core.config.input_bits == 6
    assert core.config.tile_rows == 16
    picked = to_analog(model, "EpiRAM", layer_settings=lambda name, m: (
        {"adc_bits": 5} if m.out_features == 10 else None))
    assert [layer.cores[0].config.adc_bits for layer in picked] == [None, 5]
    for bad, message in [(dict(exclude=["nope"]), "exclude names"),
                         (dict(layer_settings={"9": {}}), "layer_settings names"),
                         (dict(tile_rows=0), "tile_rows"),
                         (dict(adc_bits=1), "adc_bits")]:
        with pytest.raises(ParameterError, match=message):
            to_analog(model, "EpiRAM", **bad)
    with pytest.raises(ParameterError, match="unknown device preset"):
        to_analog(model, "nonesuch")
    with pytest.raises(ParameterError, match=r"no nn\.Linear or nn\.Conv2d"):
        to_analog(nn.Sequential(nn.ReLU()), "EpiRAM")
    with pytest.raises(ParameterError, match="padding_mode"):
        to_analog(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), "EpiRAM")


def test_chips_are_seeded_and_reprogramming_draws_another():
    torch.manual_seed(3)
    model = build_float_model("mlp", (1, 8, 8)).eval()
    x = torch.rand(16, 1, 8, 8)
    a, b = to_analog(model, "Ag:a-Si", seed=5), to_analog(model, "Ag:a-Si", seed=5)
    with torch.no_grad():
        first = a(x)
        assert torch.equal(first, b(x))  # the same seed, the same chip
        a.reprogram(6)
        assert not torch.allclose(a(x), first)
        a.reprogram(5)
        assert torch.equal(a(x), first)


def test_programming_summary_counts_pulses_and_verify_iterations():
    torch.manual_seed(4)
    model = build_float_model("mlp", (1, 8, 8))
    open_loop = to_analog(model, "TaOx/HfOx").programming_summary()
    verified = to_analog(model, "TaOx/HfOx", programming="write-verify").programming_summary()
    for o, v in zip(open_loop, verified, strict=True):
        assert o["matrix"] == v["matrix"] and o["cells"] == v["cells"] > 0
        assert o["verify_iterations_mean"] == 1 and v["verify_iterations_mean"] > 1
        assert v["pulses_total"] > o["pulses_total"] > 0
        assert 0 < v["converged_fraction"] <= 1
    assert open_loop[0]["matrix"] == [256, 64]  # out x in


def test_counters_and_energy_follow_the_periphery_models():
    """Reference: Cubero-Cascante et al. 2025, eq. 8 with meliso's EnergyModel, counted by
    hand for one dense layer of 40 inputs x 10 outputs on 16x8 tiles, 6-bit inputs."""
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (10, 40))
    x = rng.uniform(-1, 1, (7, 40))
    energy = EnergyModel()
    core = AnalogCore(a, "EpiRAM", rng=1, tile_rows=16, tile_cols=8, input_bits=6, adc_bits=8,
                      energy=energy)
    core.matvec(x)
    st = core.stats
    planes = 6  # every plane of random 6-bit inputs holds a set bit
    assert st.vectors == 7 and st.macs == 7 * 10 * 40
    assert st.reads.shape == (3, 2) and int(st.reads.sum()) == 7 * planes * 3 * 2
    cols_per_tile = np.array([8, 2])  # 10 outputs on 8-wide tiles
    assert int(st.adc_conversions.sum()) == 7 * planes * 3 * int(cols_per_tile.sum())
    rows, phys_cols = core.physical_shape
    e_adc = energy.e_adc_j(8, rows)
    assert float(st.adc_energy_j.sum()) == pytest.approx(st.adc_conversions.sum() * e_adc)
    # row drivers: one action per non-zero word-line voltage of every read (every plane), in
    # each of the 2 column tiles; the planes are the bits of each vector over its own peak
    from meliso.mapping import quantize_inputs

    d = np.abs(quantize_inputs(x / np.abs(x).max(axis=1, keepdims=True), 6))
    actions = 2 * sum(int(((d >> k) & 1).sum()) for k in range(6))
    assert float(st.row_driver_energy_j.sum()) == pytest.approx(
        actions * energy.e_rd_j(phys_cols), rel=1e-12)
    assert st.energy_per_mac_j > 0 and st.mac_per_joule == pytest.approx(1 / st.energy_per_mac_j)
    core.reset_stats()
    assert core.stats.vectors == 0 and core.stats.energy_j == 0


def test_cell_energy_is_the_joule_heat_of_each_read():
    """One analog read of one vector on an ideal-wire tile: E_cell = T_R sum_rc v_r^2 g_rc, the
    cells' heat over the read pulse, computed here from the programmed conductances."""
    rng = np.random.default_rng(6)
    a, x = rng.uniform(-1, 1, (5, 12)), rng.uniform(-1, 1, 12)
    core = AnalogCore(a, "EpiRAM", rng=2, tile_rows=12, tile_cols=5)
    core.matvec(x)
    dev = core.device
    g_eff = 1.0 / (1.0 / core.g_s[0, 0, 0] + dev.r_access_ohm)  # (rows, physical columns)
    v = dev.v_read_v * x / np.abs(x).max()
    expected = EnergyModel().t_read_sec * float((v[:, None] ** 2 * g_eff).sum())
    assert float(core.stats.cell_energy_j.sum()) == pytest.approx(expected, rel=1e-12)


def test_the_linear_read_equals_the_tiled_read():
    """The linear path (x W_eff, for ideal wires, analog inputs, an ideal ADC and no read
    noise) against the tile-by-tile read it replaces."""
    rng = np.random.default_rng(7)
    a, x = rng.normal(size=(30, 50)), rng.normal(size=(9, 50))
    core = AnalogCore(a, "Ag:a-Si", rng=3, tile_rows=16, tile_cols=8)
    assert core.arrays.linear
    fast = core.matvec(x)
    slow = core.arrays._read_tiles(x[None], None, count=False)[0]
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12 * np.abs(slow).max())


def test_calibrated_adc_ranges_beat_the_nominal_range():
    """With a 4-bit ADC over the nominal full scale (every row at full weight) a layer's small
    column sums fall into a few codes; the calibrated range (eq. 7) recovers most of it."""
    torch.manual_seed(8)
    model = build_float_model("mlp", (1, 8, 8)).double().eval()
    x = torch.rand(64, 1, 8, 8, dtype=torch.float64)
    ref = model(x).detach()
    errors = {}
    for calibrated in (False, True):
        hw = to_analog(model, EXACT, adc_bits=4, tile_rows=64, tile_cols=64)
        if calibrated:
            scales = hw.calibrate(x[:32])
            assert all(0 < s < 64 for s in scales)
        with torch.no_grad():
            errors[calibrated] = float((hw(x) - ref).pow(2).mean().sqrt())
    assert errors[True] < 0.5 * errors[False]


def test_reprogramming_keeps_the_calibrated_ranges():
    torch.manual_seed(9)
    model = build_float_model("mlp", (1, 8, 8)).eval()
    hw = to_analog(model, "EpiRAM", adc_bits=6)
    scales = hw.calibrate(torch.rand(32, 1, 8, 8))
    hw.reprogram(3)
    assert [c.adc_full_scale for layer in hw for c in layer.cores] == scales


def test_hardware_aware_training_is_straight_through():
    """Reference: the chain rule by hand. For one analog dense layer and the loss
    L = sum(y * t), dL/dW is t^T x whatever the hardware's y is (straight-through), and the
    forward value is the hardware's, a freshly programmed chip each step."""
    torch.manual_seed(10)
    layer = nn.Linear(12, 4).double()
    hw = to_analog(layer, "AlOx/HfO2", seed=1).hardware_aware()
    hw.train()
    x = torch.randn(5, 12, dtype=torch.float64)
    t = torch.randn(5, 4, dtype=torch.float64)
    y = hw(x)
    (y * t).sum().backward()
    analog = hw.analog_layers()[0]
    np.testing.assert_allclose(analog.layer.weight.grad.numpy(), (t.T @ x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(analog.layer.bias.grad.numpy(), t.sum(0).numpy(), rtol=1e-12)
    assert not torch.allclose(y, layer(x))  # the value is the hardware's
    y2 = hw(x)
    assert not torch.equal(y.detach(), y2.detach())  # another chip for the next step
    hw.eval()
    with torch.no_grad():
        assert torch.equal(hw(x), hw(x))  # inference: one chip


def test_hardware_aware_training_runs_and_returns_a_software_network():
    from meliso.data import load_dataset
    from meliso.nn import train_float

    data = load_dataset("digits")
    result = train_float("mlp", data, epochs=2, hardware={"device": "EpiRAM", "adc_bits": 6})
    assert isinstance(result.model[1], nn.Linear) and result.accuracy > 0.5
    assert result.losses[1] < result.losses[0]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(3, 12), st.integers(3, 12),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.tuples(st.integers(1, 3),
                                                                  st.integers(1, 3)),
       st.tuples(st.integers(1, 2), st.integers(1, 2)))
def test_im2col_matches_torch_unfold(n, c, h, w, kernel, stride, dilation):
    """Reference: ``torch.nn.functional.unfold``, patch for patch and in the same order."""
    import torch.nn.functional as F

    from meliso.nn.analog_layers import im2col

    if h < dilation[0] * (kernel[0] - 1) + 1 or w < dilation[1] * (kernel[1] - 1) + 1:
        return
    x = torch.randn(n, c, h, w, dtype=torch.float64)
    ours = im2col(np.ascontiguousarray(x.numpy()), kernel, stride, dilation)
    ref = F.unfold(x, kernel, dilation=dilation, stride=stride)
    assert np.array_equal(ours, ref.transpose(1, 2).reshape(-1, ref.shape[1]).numpy())


def test_the_largest_signal_range_never_clips_what_calibration_saw():
    """Reference: the ADC's definition. With the range set to the largest |signal| of the
    profiling inputs, reading those inputs again clips nothing, so an 8-bit ADC reproduces the
    ideal read to within half a step per column and read; eq. 7's mean +- 3 sigma range clips."""
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (8, 32))
    a[0] = 1.0  # one output whose sum grows with every input: the rare large signal
    x = rng.exponential(size=(40, 32))  # non-negative (ReLU-like) inputs
    x[:2] = 1.0  # two vectors drive every row fully
    ideal = AnalogCore(a, EXACT, tile_rows=32, tile_cols=8).matvec(x)
    for method, clips in (("max", False), ("3sigma", True)):
        core = AnalogCore(a, EXACT, tile_rows=32, tile_cols=8, adc_bits=8)
        full = core.calibrate_adc(x, method)
        step = full / 127
        err = np.abs(core.matvec(x) - ideal)
        scale = np.abs(x).max(axis=1, keepdims=True) * np.abs(a).max()  # tile scale x input
        within = bool(np.all(err <= 0.5 * step * scale + 1e-12))
        assert within != clips, (method, err.max())
    with pytest.raises(ParameterError, match="method"):
        core.calibrate_adc(x, "median")


def test_a_network_too_large_for_memory_is_refused_before_programming(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "1MiB")
    with pytest.raises(ParameterError, match=r"needs about .* of memory"):
        to_analog(nn.Linear(600, 400), "EpiRAM")
