"""``meliso reproduce analog-nn``: float networks on the multilevel devices, end to end on a
small configuration (cached, rebuilt identically), and its findings' logic on rows built by
hand."""

from __future__ import annotations

import csv
import os

import pytest

if not os.environ.get("MELISO_REQUIRE_NN"):
    pytest.importorskip("torch")

from meliso import ParameterError
from meliso._validation import validate_model
from meliso.devices import get_device
from meliso.studies.analog_nn.findings import fewest, findings, limiting
from meliso.studies.analog_nn.study import (
    AnalogNnConfig,
    AnalogNnPoint,
    same_full_swing_c2c,
)

SMALL = {"name": "ann-test", "dataset": "digits", "nets": ["mlp"], "devices": ["EpiRAM"],
         "chips": 2, "images": 60, "weight_bits": [2, 5], "c2c": [0.0, 0.05],
         "adc_bits": [6, 3], "adc_3sigma_bits": [6], "hwa_epochs": 1, "epochs": 3}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from meliso.studies.analog_nn.run import reproduce_analog_nn

    out = tmp_path_factory.mktemp("ann") / "run"
    seen = []
    config = validate_model(AnalogNnConfig, SMALL)
    report = reproduce_analog_nn(out, config=config,
                                 on_point=lambda d, t, r, c: seen.append(c))
    return out, report, seen, config


def test_the_study_writes_every_output(study):
    out, report, seen, _ = study
    assert not any(seen) and len(seen) == 1 + 4 + 1 + 2 + 2 + 2 + 1 + 1  # every point computed
    with open(out / "accuracy.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["variant"] for r in rows} == {"baseline", "off", "programming", "weight_bits",
                                            "c2c", "adc_bits", "adc_3sigma", "hwa"}
    for r in rows:
        low, acc, high = (float(r[k]) for k in
                          ("accuracy_ci_low_pct", "accuracy_pct", "accuracy_ci_high_pct"))
        assert 0 <= low <= acc <= high <= 100 and int(r["n_images"]) == 60
        assert float(r["energy_per_mac_j"]) > 0
    text = report.read_text()
    for part in ("## Summary", "limited by", "Hardware-aware fine-tuning", "Write-and-verify",
                 "Wilson", "ADC ranges: 6 bits"):
        assert part in text
    for stem in ("fig1_weight_bits", "fig2_c2c", "fig3_adc_bits", "fig4_limits"):
        assert (out / "figures" / f"{stem}.png").exists()
    assert (out / "report.html").exists()
    assert len(list((out / "checkpoints").glob("*.pt"))) == 2  # float + hardware-aware


def test_a_rerun_is_cached_and_the_report_rebuilds_identically(study):
    from typer.testing import CliRunner

    from meliso.cli import app
    from meliso.studies.analog_nn.run import reproduce_analog_nn

    out, _, _, config = study
    again = []
    reproduce_analog_nn(out, config=config, on_point=lambda d, t, r, c: again.append(c))
    assert again and all(again)
    before = {n: (out / n).read_bytes() for n in ("accuracy.csv", "report.md")}
    for name in before:
        (out / name).unlink()
    res = CliRunner().invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert {n: (out / n).read_bytes() for n in before} == before


def test_bad_settings_are_refused_before_anything_runs(tmp_path):
    for field, value, message in [("devices", ["PCM"], "binary"), ("chips", 0, "chips"),
                                  ("weight_bits", [60], "weight_bits"),
                                  ("adc_bits", [1], "adc_bits"), ("nets", ["vgg7"], "nets")]:
        with pytest.raises(ParameterError, match=message):
            validate_model(AnalogNnConfig, {**SMALL, field: value})
    from meliso.studies.analog_nn.run import reproduce_analog_nn

    with pytest.raises(ParameterError, match="test split"):
        reproduce_analog_nn(tmp_path / "x", config=validate_model(
            AnalogNnConfig, {**SMALL, "images": 5000}))
    assert not (tmp_path / "x").exists()


def test_fewer_states_keep_a_full_window_writes_noise():
    """Reference: the device model's C-to-C noise sigma (G_max - G_min) sqrt(n): with N states
    a full-window write takes N pulses, so sigma sqrt(N) is what the scaling keeps."""
    dev = get_device("TaOx/HfOx")
    for bits in (2, 6, 11):
        sigma = same_full_swing_c2c(dev, bits)
        assert sigma * (2**bits) ** 0.5 == pytest.approx(dev.sigma_c2c * dev.levels_ltp ** 0.5)
    point = AnalogNnPoint("mlp", "TaOx/HfOx", "weight_bits", 4, "digits", 1, 60, 10, 0, "x", "y")
    device, settings = point.hardware()
    assert device.levels_ltp == 16 and settings == {}
    assert device.sigma_c2c == pytest.approx(same_full_swing_c2c(dev, 4))


def _row(variant, value, acc, n=1000, net="mlp", device="D"):
    return {"net": net, "device": device, "variant": variant, "value": value,
            "accuracy_pct": acc, "correct": round(acc * n / 100), "n_images": n,
            "chip_std_pct": 0.5, "software_accuracy_pct": 97.0, "verify_iterations_mean": 3.0}


def test_the_limiting_parameter_is_the_largest_gain_beyond_noise():
    rows = [_row("baseline", None, 80.0), _row("off", "nl", 81.0), _row("off", "c2c", 92.0),
            _row("off", "levels", 85.0), _row("off", "all", 96.0)]
    assert limiting(rows, "mlp", "D")["limited by"] == "cycle-to-cycle variation"
    within = [_row("baseline", None, 80.0), _row("off", "nl", 81.5), _row("off", "c2c", 81.0),
              _row("off", "levels", 80.5), _row("off", "all", 82.0)]
    assert limiting(within, "mlp", "D")["limited by"] == "none beyond noise"  # n = 1000


def test_the_fewest_bits_needed_stay_within_a_point():
    ref = _row("off", "levels", 95.0)
    rows = [_row("weight_bits", b, a) for b, a in [(2, 60.0), (3, 90.0), (4, 94.2), (5, 95.1)]]
    assert fewest(rows, "mlp", "D", "weight_bits", ref) == 4
    assert fewest(rows, "mlp", "D", "weight_bits", _row("x", None, 99.0)) is None


def test_findings_summarise_every_network_and_device():
    rows = []
    for net in ("mlp", "lenet5"):
        rows += [_row(v, x, a, net=net) for v, x, a in [
            ("baseline", None, 80.0), ("off", "nl", 81.0), ("off", "c2c", 92.0),
            ("off", "levels", 85.0), ("off", "all", 96.0),
            ("programming", "write-verify", 90.0), ("weight_bits", 4, 80.0),
            ("c2c", 0.0, 92.0), ("c2c", 0.05, 70.0), ("adc_bits", 6, 79.5), ("hwa", None, 88.0)]]
    table, lines = findings(rows)
    assert [(t["network"], t["limited by"]) for t in table] == [
        ("mlp", "cycle-to-cycle variation"), ("lenet5", "cycle-to-cycle variation")]
    assert "47 % of the gap to software" in lines[0]  # (88 - 80) / (97 - 80)
    assert table[0]["ADC bits needed"] == 6 and table[0]["C-to-C tolerated"] == "0 %"


def test_points_keep_per_image_outcomes_and_comparisons_are_paired(study):
    """Every stored point holds its chips' predicted labels and the true labels (a last row);
    the report's rows carry the per-image outcomes and its accuracy is theirs."""
    from meliso.experiments.store import read_results
    from meliso.studies.analog_nn.report import with_outcomes

    out, report, _, config = study
    rows = with_outcomes(out, read_results(out))
    for r in rows:
        c = r["_correct"]
        assert c.shape == (config.chips, config.images)
        assert 100 * c.mean() == pytest.approx(float(r["accuracy_pct"]), abs=1e-9)
    assert "paired sign-flip test" in report.read_text()
    assert len({r["_correct"].tobytes() for r in rows}) > 1  # the points' own outcomes


def test_paired_outcomes_resolve_a_gain_the_unpaired_test_calls_noise():
    """12 more right answers of 1000 and none lost: within the unpaired test's noise, a real
    gain paired (exact McNemar, p = 2^-11), so the verdict names it."""
    import numpy as np

    rng = np.random.default_rng(3)
    base = (rng.random((1, 1000)) < 0.80).astype(float)
    better = base.copy()
    better[0, np.flatnonzero(base[0] == 0)[:12]] = 1.0
    acc = 100 * base.mean()
    rows = [_row("baseline", None, acc), _row("off", "nl", acc + 1.2),
            _row("off", "c2c", acc), _row("off", "levels", acc), _row("off", "all", acc)]
    assert limiting(rows, "mlp", "D")["limited by"] == "none beyond noise"  # unpaired
    for r in rows:
        r["_correct"] = better if r["value"] == "nl" else base
    assert limiting(rows, "mlp", "D")["limited by"] == "non-linearity"  # paired


def test_runs_stored_without_labels_fall_back_to_the_unpaired_test(tmp_path):
    """A point stored before the labels were kept holds only the chips' predictions (chips x
    images): its last chip must not be read as the true labels; such rows get no outcomes.
    A damaged array (outcomes that do not reproduce the stored accuracy) neither."""
    import numpy as np

    from meliso.studies.analog_nn.report import with_outcomes

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 10, 200)
    pred = np.where(rng.random((3, 200)) < 0.565, truth, (truth + 1) % 10)
    acc = 100 * float(np.mean(pred == truth))
    (tmp_path / "errors").mkdir()
    np.save(tmp_path / "errors" / "old.npy", pred.astype(float))
    np.save(tmp_path / "errors" / "new.npy", np.vstack([pred, truth[None]]).astype(float))
    bad = np.vstack([pred, truth[None]]).astype(float)
    bad[0, :50] = truth[:50]  # outcomes no longer those stored
    np.save(tmp_path / "errors" / "bad.npy", bad)
    row = {"n_images": 200, "accuracy_pct": acc,
           "chip_accuracy_pct": [100 * float(np.mean(p == truth)) for p in pred]}
    old, new, damaged = with_outcomes(tmp_path, [{**row, "key": k} for k in
                                                 ("old", "new", "bad")])
    assert "_correct" not in old and "_correct" not in damaged
    assert new["_correct"].shape == (3, 200) and 100 * new["_correct"].mean() == \
        pytest.approx(acc)
