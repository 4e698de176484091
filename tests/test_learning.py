"""On-chip learning (meliso.learning): the Numba kernel against its NumPy twin, pulse counts
and a whole NeuroSim step by hand against MLP_NeuroSim's formulas, and in-situ training on a
linear noise-free device against software SGD within the quantisation bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from meliso._validation import ParameterError
from meliso.devices import get_device
from meliso.learning import InsituSettings, binarised_patches, train_insitu, twin
from meliso.learning import _kernels as k
from meliso.learning.inputs import Patches
from meliso.learning.settings import NEUROSIM_WIRE_SEGMENT_OHM
from meliso.learning.state import initial_weights, layer_state, read_currents


def _images(n: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    return (rng.random((n, rows)) < 0.3).astype(np.uint8)


def _run_both(model: str, device, *, steps: int = 12, hidden: int = 6, rows: int = 24,
              adc: int = 8, binary: bool = True, seed: int = 3, alphas=(0.4, 0.2)):
    """``steps`` images through the kernel and through the twin from the same state."""
    rng = np.random.default_rng(seed)
    w1 = initial_weights((hidden, rows), rng)
    w2 = initial_weights((10, hidden), rng)
    states = []
    for _ in range(2):
        r = np.random.default_rng(seed + 1)
        states.append((layer_state(model, device, w1, r, NEUROSIM_WIRE_SEGMENT_OHM),
                       layer_state(model, device, w2, r, NEUROSIM_WIRE_SEGMENT_OHM)))
    images = _images(40, rows, rng)
    labels = rng.integers(0, 10, 40)
    order = rng.integers(0, 40, steps)
    normals = rng.standard_normal(100_000)
    dev = device
    i_max, i_min = read_currents(dev) if dev is not None else (1.0, -1.0)
    sigma = dev.sigma_c2c * dev.g_range_s if dev is not None else 0.0
    params = dict(levels_ltp=dev.levels_ltp if dev else 1, levels_ltd=dev.levels_ltd if dev else 1,
                  g_min=dev.g_min_s if dev else 0.0, g_max=dev.g_max_s if dev else 1.0,
                  sigma_s=sigma, v_read=dev.v_read_v if dev else 1.0, i_max=i_max, i_min=i_min)
    (k1, k2), (t1, t2) = states
    counters = np.zeros((2, k.N_COUNTERS))
    write = np.array([1.0, -1.0, 1e-6, 2e-6])
    mode = {"software": k.SOFTWARE, "neurosim": k.NEUROSIM, "physics": k.PHYSICS}[model]
    done, used = k.train_steps(
        mode, images, labels, order, 0, k1.g, k1.sig, k1.w, k1.constants(), k2.g, k2.sig, k2.w,
        k2.constants(), params["levels_ltp"], params["levels_ltd"], params["g_min"],
        params["g_max"], sigma, params["v_read"], i_max, i_min, write, *alphas, adc, binary,
        0.5, 4, 3, normals, counters)
    assert done == steps
    pos = 0
    pulses = np.zeros((2, 2), dtype=np.int64)
    for idx in order:
        pos = twin.train_step(model, images[idx].astype(np.float64), int(labels[idx]), t1, t2,
                              alpha1=alphas[0], alpha2=alphas[1], adc_bits=adc,
                              hidden_binary=binary, threshold=0.5, normals=normals, pos=pos,
                              pulses=pulses, **params)
    np.testing.assert_array_equal(counters[:, [k.C_PULSES_LTP, k.C_PULSES_LTD]], pulses)
    return (k1, k2), (t1, t2), used, pos, counters


def test_kernel_skips_only_updates_that_send_no_pulse():
    """Small learning rates: the kernel skips whole layers and rows (|alpha delta u| N < 1/2)
    and must still write exactly the cells the twin writes."""
    for model in ("neurosim", "physics"):
        for bits, alphas in ((6, (0.1, 0.02)), (7, (0.05, 0.05))):
            (k1, k2), (t1, t2), used, pos, counters = _run_both(
                model, get_device("EpiRAM", weight_bits=bits), steps=30, alphas=alphas)
            for a, b in ((k1, t1), (k2, t2)):
                np.testing.assert_allclose(a.g, b.g, rtol=1e-12, atol=0)
            assert used == pos
            assert counters[0, k.C_MOVED] > 0  # some rows write, the rest are skipped


@pytest.mark.parametrize("model, device", [
    ("neurosim", get_device("Ag:a-Si")),
    ("neurosim", get_device("AlOx/HfO2", sigma_d2d=0.5)),
    ("physics", get_device("TaOx/HfOx")),
    ("physics", get_device("EpiRAM", sigma_d2d=0.3, nl_ltd=-2.0)),
    ("physics", get_device("EpiRAM", nl_ltp=0.0, nl_ltd=0.0)),
    ("software", None),
])
def test_kernel_matches_numpy_twin(model, device):
    (k1, k2), (t1, t2), used, pos, counters = _run_both(model, device)
    for a, b in ((k1, t1), (k2, t2)):
        np.testing.assert_allclose(a.g, b.g, rtol=1e-12, atol=0)
        np.testing.assert_allclose(a.w, b.w, rtol=1e-10, atol=1e-13)
    assert used == pos  # the same noise, in the same order
    if model != "software":
        assert counters[:, k.C_MOVED].sum() > 0  # the comparison exercised real writes


def test_pulse_counts_by_hand():
    # MLP_NeuroSim: d = dw / 2 = 0.015 -> 1.5 levels of 1/100 -> rounded away from zero to 2
    assert k.neurosim_pulse_count(0.03, 100) == 2
    assert k.neurosim_pulse_count(-0.03, 100) == -2
    assert k.neurosim_pulse_count(0.0099, 100) == 0   # below half a level: dropped
    assert k.neurosim_pulse_count(0.0100, 100) == 1   # exactly half a level: one pulse
    # its C cast: 7/97 * 97 = 6.9999999999999991 truncates to 6 (quirk Q2)
    assert k.neurosim_pulse_count(2 * 7 / 97, 97) == 6
    np.testing.assert_array_equal(
        twin.neurosim_pulses(np.array([0.03, -0.03, 2 * 7 / 97]), 97, 100), [1, -2, 6])
    # (0.015 * 97 = 1.455 levels -> 1 pulse on LTP; 1.5 -> 2 on LTD)
    # meliso's rule on each device of a pair: round_half_away(|dw| / 2 * N)
    assert k._round_half_away(0.03 / 2 * 100) == 2
    assert k._round_half_away(-0.0149 / 2 * 100) == -1


def test_neurosim_step_by_hand_on_a_2x2_case():
    """One training image through a 2-input, 2-hidden, 2-output network, every quantity from
    MLP_NeuroSim's formulas with scalars (Train.cpp, Cell.cpp, Array.cpp, formula.cpp)."""
    dev = get_device("Ag:a-Si", sigma_c2c=0.0)
    w1 = np.array([[1.0, -1 / 3], [2 / 3, 0.0]])
    w2 = np.array([[-2 / 3, 1.0], [1 / 3, -1.0]])
    rng = np.random.default_rng(0)
    seg = NEUROSIM_WIRE_SEGMENT_OHM       # 0.237 ohm: 100 nm wire, 2F per cell (Array.h)
    assert seg == pytest.approx(2.73e-8 * 200e-9 / (100e-9 * 100e-9 * 2.3))
    l1 = layer_state("neurosim", dev, w1, rng, seg)
    l2 = layer_state("neurosim", dev, w2, rng, seg)
    x = np.array([1, 1], dtype=np.uint8)
    label = 1
    # --- by hand ---
    gmax, gmin = 1 / dev.r_on_ohm, 1 / dev.r_on_ohm / dev.on_off_ratio
    v, racc = 0.5, 15e3
    imax, imin = v / (1 / gmax + racc), v / (1 / gmin + racc)

    def g0(w):  # ideal write without + G_min (WriteCell, regular = false)
        return min(max((w + 1) / 2 * (gmax - gmin), gmin), gmax)

    def current(g, col, row, rows):
        return v / (1 / g + (col + 1) * seg + (rows - row) * seg + racc)

    def weight(i):
        i = min(max(i, imin), imax)
        return (i - imin) / (imax - imin) * 2 - 1

    def layer_out(ws, u, rows):
        out = []
        for c in range(len(ws)):
            isum = sum(current(g0(ws[c][r]), c, r, rows) for r in range(rows) if u[r])
            iref = sum((imax + imin) / 2 for r in range(rows) if u[r])
            full = rows * imax - rows * imin
            digits = int(isum / (full / 255)) - int(iref / (full / 255))
            out.append(digits / 255 * rows)
        return out

    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    a1 = [sig(z) for z in layer_out(w1, x, 2)]
    da1 = [1 if a >= 0.5 else 0 for a in a1]
    a2 = [sig(z) for z in layer_out(w2, da1, 2)]
    s2 = [-2 * a2[j] * (1 - a2[j]) * ((1.0 if j == label else 0.0) - a2[j]) for j in range(2)]
    # the weights read back (MLP_NeuroSim's first step alone uses the ideal w0 here:
    # docs/learning.md section 6)
    w2_read = [[weight(current(g0(w2[c][r]), c, r, 2)) for r in range(2)] for c in range(2)]
    s1 = [sum(a1[j] * (1 - a1[j]) * w2_read[kk][j] * s2[kk] for kk in range(2))
          for j in range(2)]

    def write(g, dw):  # RealDevice::Write, nonlinearWrite, no C-to-C
        n_lev = dev.levels_ltp if dw > 0 else dev.levels_ltd
        nl = dev.nl_ltp if dw > 0 else dev.nl_ltd
        d = dw / 2
        s = 1 if d >= 0 else -1
        val = d * n_lev * s
        r = int(val)
        val = r + 1 if val - r >= 0.5 else r
        p = int(val * s / n_lev * n_lev)
        a = {2.40: 0.499181, -4.88: -0.200303}[nl] * n_lev  # formula.cpp getParamA table
        b = (gmax - gmin) / (1 - math.exp(-n_lev / a))
        xp = -a * math.log(1 - (g - gmin) / b)
        return min(max(b * (1 - math.exp(-(xp + p) / a)) + gmin, gmin), gmax), p

    expect1 = [[write(g0(w1[j][r]), -0.4 * s1[j] * x[r])[0] for r in range(2)] for j in range(2)]
    expect2 = [[write(g0(w2[j][r]), -0.2 * s2[j] * a1[r])[0] for r in range(2)] for j in range(2)]
    pulses = [write(g0(w1[j][r]), -0.4 * s1[j] * x[r])[1] for j in range(2) for r in range(2)]
    pulses2 = [write(g0(w2[j][r]), -0.2 * s2[j] * a1[r])[1] for j in range(2) for r in range(2)]
    w2_after = [[weight(current(expect2[c][r], c, r, 2)) if pulses2[2 * c + r] else
                 w2_read[c][r] for r in range(2)] for c in range(2)]
    # --- the kernel ---
    counters = np.zeros((2, k.N_COUNTERS))
    k.train_steps(k.NEUROSIM, x[None], np.array([label]), np.array([0]), 0, l1.g, l1.sig, l1.w,
                  l1.constants(), l2.g, l2.sig, l2.w, l2.constants(), dev.levels_ltp,
                  dev.levels_ltd, gmin, gmax, 0.0, v, imax, imin, np.zeros(4), 0.4, 0.2, 8,
                  True, 0.5, 1, 1, np.zeros(0), counters)
    np.testing.assert_allclose(l1.g[0], expect1, rtol=1e-13)
    np.testing.assert_allclose(l2.g[0], expect2, rtol=1e-13)
    assert any(p != 0 for p in pulses) and any(p != 0 for p in pulses2)  # cells move
    assert counters[0, k.C_PULSES_LTP] + counters[0, k.C_PULSES_LTD] == sum(map(abs, pulses))
    assert counters[1, k.C_PULSES_LTP] + counters[1, k.C_PULSES_LTD] == sum(map(abs, pulses2))
    np.testing.assert_allclose(l2.w, w2_after, rtol=1e-12, atol=1e-15)  # ConductanceToWeight


def test_write_energy_and_latency_by_hand():
    """One cell moved by n pulses costs V^2 (G_old + G_new)/2 t n, and a batch's latency is
    its longest LTP train plus its longest LTD train."""
    dev = get_device("EpiRAM", sigma_c2c=0.0, nl_ltp=0.0, nl_ltd=0.0)
    layer = layer_state("physics", dev, np.zeros((2, 1)), np.random.default_rng(0), 0.0)
    g_before = layer.g.copy()
    counters = np.zeros(k.N_COUNTERS)
    i_max, i_min = read_currents(dev)
    err = np.array([-0.5, 0.25])  # dw = -alpha err u = +0.1, -0.05 (alpha 0.2, u = 1)
    k.update_layer(k.PHYSICS, err, np.array([1.0]), 0.2, layer.g, layer.sig, layer.w,
                   *layer.constants(), dev.levels_ltp, dev.levels_ltd, dev.g_min_s,
                   dev.g_max_s, 0.0, dev.v_read_v, i_max, i_min, 5.0, -3.0, 5e-6, 7e-6, 2,
                   np.zeros(0), 0, counters)
    n = [round(0.05 * 64), round(0.025 * 64)]   # 3.2 -> 3 and 1.6 -> 2 pulses per device
    assert counters[k.C_PULSES_LTP] == n[0] + n[1] and counters[k.C_PULSES_LTD] == n[0] + n[1]
    energy = 0.0
    for d, c, p in ((0, 0, n[0]), (1, 0, -n[0]), (0, 1, -n[1]), (1, 1, n[1])):
        v, t = (5.0, 5e-6) if p > 0 else (-3.0, 7e-6)
        energy += v * v * (g_before[d, c, 0] + layer.g[d, c, 0]) / 2 * t * abs(p)
    assert counters[k.C_ENERGY_J] == pytest.approx(energy, rel=1e-12)
    # both columns in one batch of 2: LTP phase 3 pulses, LTD phase 3 pulses
    assert counters[k.C_LATENCY_S] == pytest.approx(3 * 5e-6 + 3 * 7e-6, rel=1e-12)
    assert counters[k.C_WRITES] == 1


def test_linear_noise_free_device_matches_software_sgd_within_quantisation():
    """A linear device without noise and with 2^30 levels, no ADC, an ideal read (no access
    resistance): each update of a pair rounds each device by at most half a level, so after T
    updates every weight is within T / N of software SGD run on the same forward pass."""
    rng = np.random.default_rng(5)
    raw = rng.random((300, 28, 28))
    data = Patches(binarised_patches(raw), rng.integers(0, 10, 300),
                   binarised_patches(raw[:50]), rng.integers(0, 10, 50))
    bits = 30
    dev = get_device("EpiRAM", nl_ltp=0.0, nl_ltd=0.0, sigma_c2c=0.0, r_access_ohm=0.0,
                     weight_bits=bits)
    common = dict(epochs=1, images_per_epoch=200, n_hidden=12, adc_bits=None,
                  hidden_binary=True, seed=4, data=data)
    hw = train_insitu(dev, model="physics", **common)
    sw = train_insitu(None, model="software", **common)
    bound = 200 / 2**bits
    for a, b in zip(hw.weights, sw.weights, strict=True):
        diff = np.max(np.abs(a - b))
        assert diff <= bound
    assert np.max(np.abs(hw.weights[0] - initial_weights((12, 400), np.random.default_rng(4)))) \
        > 0.05  # training moved the weights far beyond the bound
    np.testing.assert_array_equal(hw.accuracy, sw.accuracy)
    # and with only 2^6 levels the same comparison is far off: the test can fail
    coarse = train_insitu(get_device(dev, weight_bits=6), model="physics", **common)
    assert np.max(np.abs(coarse.weights[0] - sw.weights[0])) > 100 * bound


def test_training_learns_and_counts():
    res = train_insitu("EpiRAM", model="neurosim", epochs=2, images_per_epoch=2000,
                       test_images=300)
    assert res.accuracy.shape == (2,) and res.final_accuracy > 0.5
    c = res.counts[-1]
    assert c.pulses_ltp > 0 and c.pulses_ltd > 0 and c.write_energy_j > 0
    assert c.write_latency_s > 0 and res.images_per_second > 0
    soft = train_insitu(None, model="software", epochs=2, images_per_epoch=2000,
                        test_images=300)
    assert soft.final_accuracy > 0.7 and soft.counts[-1].write_energy_j is None  # chance: 0.1


@pytest.mark.parametrize("kwargs, message", [
    (dict(device="EpiRAM", model="neurosim", adc_bits=None), "adc_bits = None"),
    (dict(device="EpiRAM", model="neurosim", hidden_binary=False), "hidden_binary = False"),
    (dict(device="EpiRAM", epochs=0), "epochs = 0 is out of range"),
    (dict(device="EpiRAM", alpha1=float("nan")), "alpha1"),
    (dict(device="ReRAM-1"), "binary device"),
    (dict(device=get_device("EpiRAM", sigma_read=0.01)), "sigma_read"),
    (dict(device=None, model="physics"), "device = None"),
    (dict(device="EpiRAM", dataset="digits"), "dataset = 'digits'"),
])
def test_bad_settings_are_refused(kwargs, message):
    device = kwargs.pop("device")
    with pytest.raises(ParameterError, match=message):
        train_insitu(device, **kwargs)


def test_patches_are_neurosims_20x20_black_and_white():
    img = np.zeros((1, 1, 28, 28))
    img[0, 0, 4, 4] = 0.5      # inside the central box, at the threshold: white
    img[0, 0, 3, 10] = 1.0     # in the 4-pixel border: cropped away
    img[0, 0, 23, 23] = 0.49   # inside, below the threshold
    p = binarised_patches(img)
    assert p.shape == (1, 400) and p.dtype == np.uint8
    assert p.sum() == 1 and p[0, 0] == 1
    with pytest.raises(ParameterError, match="28 x 28"):
        binarised_patches(np.zeros((2, 8, 8)))


def test_settings_defaults_are_neurosims_protocol():
    s = InsituSettings()
    assert (s.epochs, s.images_per_epoch, s.n_hidden, s.alpha1, s.alpha2, s.adc_bits) == \
        (125, 8000, 100, 0.4, 0.2, 8)
    assert s.binary_hidden and not InsituSettings(model="software").binary_hidden
    assert s.write_batch(100) == 7 and s.write_batch(10) == 1


def test_meliso_learn_command(tmp_path):
    import json

    from typer.testing import CliRunner

    from meliso.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["learn", "EpiRAM", "--model", "neurosim", "--epochs", "2",
                              "--images", "300", "--eval-every", "1", "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert rec["model"] == "neurosim" and len(rec["accuracy_by_epoch_pct"]) == 2
    assert rec["accuracy_ci_low_pct"] <= rec["accuracy_pct"] <= rec["accuracy_ci_high_pct"]
    assert rec["pulses_total"] > 0 and rec["write_energy_j"] > 0
    for args, message in ((["learn", "ReRAM-1"], "binary device"),
                          (["learn", "EpiRAM", "--dataset", "cifar10"], "MNIST digits"),
                          (["learn", "EpiRAM", "--set", "sigma_read=0.1"], "sigma_read")):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 2 and message in bad.output, bad.output


def _patches_ok(rng):
    raw = rng.random((20, 28, 28))
    return Patches(binarised_patches(raw), rng.integers(0, 10, 20), binarised_patches(raw[:5]),
                   rng.integers(0, 10, 5))


@pytest.mark.parametrize("change, message", [
    (lambda p: Patches(p.x_train, p.y_train, np.ones((5, 4000), np.uint8), p.y_test),
     "pixels per image"),
    (lambda p: Patches(p.x_train, p.y_train + 42, p.x_test, p.y_test), "labels 0 ... 9"),
    (lambda p: Patches(p.x_train, p.y_train[:-1], p.x_test, p.y_test), "one label per image"),
    (lambda p: Patches(p.x_train * 255, p.y_train, p.x_test, p.y_test), "pixels 0 and 1"),
    (lambda p: Patches(np.full(p.x_train.shape, np.nan), p.y_train, p.x_test, p.y_test),
     "pixels 0 and 1"),
    (lambda p: Patches(p.x_train[:0], p.y_train[:0], p.x_test, p.y_test), "at least one"),
])
def test_malformed_patches_are_refused(change, message):
    data = change(_patches_ok(np.random.default_rng(0)))
    with pytest.raises(ParameterError, match=message):
        train_insitu("EpiRAM", data=data, epochs=1, images_per_epoch=5)


def test_degenerate_settings_are_refused_not_nan():
    data = _patches_ok(np.random.default_rng(1))
    with pytest.raises(ParameterError, match="adc_bits = 1"):
        train_insitu("EpiRAM", model="physics", adc_bits=1, data=data, epochs=1)
    assert train_insitu("EpiRAM", model="neurosim", adc_bits=1, data=data, epochs=1,
                        images_per_epoch=5).accuracy.size == 1
    dead = get_device("EpiRAM", r_on_ohm=1.0, on_off_ratio=1.0000000000001)
    for model in ("neurosim", "physics"):
        with pytest.raises(ParameterError, match="read currents"):
            train_insitu(dead, model=model, data=data, epochs=1)


def test_a_test_sample_is_drawn_at_random_not_the_first_images():
    rng = np.random.default_rng(2)
    raw = rng.random((40, 28, 28))
    y_test = np.repeat(np.arange(10), 4)            # sorted by class, as mnist5k's split
    data = Patches(binarised_patches(raw), rng.integers(0, 10, 40), binarised_patches(raw),
                   y_test)
    res = train_insitu(None, model="software", data=data, epochs=1, images_per_epoch=5,
                       test_images=12)
    assert res.test_images == 12
    pick = np.random.default_rng(np.random.SeedSequence([0, 1])).permutation(40)[:12]
    assert len(set(y_test[pick])) > 3               # not the first three classes only


def test_full_mnist_is_read_from_data_dir(tmp_path):
    """``dataset="mnist"`` reads the four IDX files of a --data-dir folder (written here with
    a few images), and its patches go through the same trainer."""
    import gzip

    from meliso.data.idx import IMAGES_MAGIC, LABELS_MAGIC

    def idx(magic, dims, payload):
        return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload

    rng = np.random.default_rng(3)
    for prefix, n in (("train", 30), ("t10k", 10)):
        images = (rng.random((n, 28, 28)) * 255).astype(np.uint8)
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(idx(IMAGES_MAGIC, (n, 28, 28), images.tobytes())))
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(
            idx(LABELS_MAGIC, (n,), bytes(rng.integers(0, 10, n).tolist())))
    res = train_insitu("EpiRAM", model="neurosim", dataset="mnist", data_dir=str(tmp_path),
                       epochs=1, images_per_epoch=20)
    assert res.test_images == 10 and res.counts[0].pulses_ltp + res.counts[0].pulses_ltd > 0
    with pytest.raises(FileNotFoundError, match="needs --data-dir"):  # exit 2 in the CLI
        train_insitu("EpiRAM", dataset="mnist", epochs=1)
