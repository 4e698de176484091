"""``meliso reproduce neurosim-mlp``: a tiny study end to end (report, figures, resume,
rebuild), and the verdict and limiting-parameter rules on rows made by hand."""

from __future__ import annotations

import math

import pytest

from meliso._validation import ParameterError, validate_model
from meliso.studies import rebuild_report
from meliso.studies.neurosim_mlp import findings
from meliso.studies.neurosim_mlp.run import reproduce_neurosim_mlp
from meliso.studies.neurosim_mlp.study import (
    NeurosimMlpConfig,
    off_overrides,
    quick_config,
    study_points,
)


def _tiny() -> NeurosimMlpConfig:
    return validate_model(NeurosimMlpConfig, {
        "name": "neurosim-mlp-quick", "devices": ["Ag:a-Si", "EpiRAM"], "seeds": 2,
        "ablation_seeds": 1, "ablations": ["nl", "window"], "epochs": 2,
        "images_per_epoch": 300, "eval_every": 1})


def test_tiny_study_end_to_end_resumes_and_rebuilds(tmp_path):
    out = tmp_path / "study"
    seen: list[bool] = []
    report = reproduce_neurosim_mlp(out, config=_tiny(),
                                    on_point=lambda d, t, r, cached: seen.append(cached))
    text = report.read_text()
    assert "| Ag:a-Si | 72 |" in text and "MLP_NeuroSim" in text
    assert "Protocol change" in text and "Quick run" in text
    assert (out / "report.html").exists() and (out / "learning.csv").exists()
    assert (out / "figures" / "fig1_learning_curves.png").exists()
    assert (out / "figures" / "fig2_what_limits.png").exists()
    import csv
    with open(out / "learning.csv") as fh:
        runs = [r for r in csv.DictReader(fh) if r["variant"] == "baseline"
                and r["device"] == "Ag:a-Si"]
    row = next(line for line in text.splitlines() if line.startswith("| Ag:a-Si |"))
    for model in ("neurosim", "physics"):
        acc = [float(r["accuracy_pct"]) for r in runs if r["model"] == model]
        assert len(acc) == 2 and f"{sum(acc) / 2:.1f} ± " in row  # the table's mean of runs
    n_points = len(study_points(_tiny(), None))
    assert n_points == 2 * 2 * (2 + 2) + 2 * 2 + 2 and seen == [False] * n_points
    seen.clear()
    reproduce_neurosim_mlp(out, config=_tiny(),
                           on_point=lambda d, t, r, cached: seen.append(cached))
    assert seen == [True] * n_points  # finished runs are cached, not trained again
    (out / "report.md").unlink()
    assert rebuild_report(out).read_text() == text


def test_ablations_switch_off_what_they_say():
    assert off_overrides("Ag:a-Si", "nl") == {"nl_ltp": 0.0, "nl_ltd": 0.0}
    assert off_overrides("Ag:a-Si", "asymmetry") == {"nl_ltd": -2.4}
    assert off_overrides("Ag:a-Si", "window") == {"on_off_ratio": 100.0}
    lv = off_overrides("Ag:a-Si", "levels")   # 1024 states, C-to-C of a full write kept
    assert lv["weight_bits"] == 10
    assert lv["sigma_c2c"] == pytest.approx(0.035 * math.sqrt(100 / 1024))
    assert off_overrides("EpiRAM", None) == {}


def _row(model, device, variant, acc, run=0, value=None, n=1000):
    return {"model": model, "device": device, "variant": variant, "value": value, "run": run,
            "accuracy_pct": acc, "correct": round(acc * n / 100), "n_images": n}


def test_verdicts_and_limits_on_rows_made_by_hand():
    rows = [_row("neurosim", "Ag:a-Si", "baseline", a, r) for r, a in enumerate((70, 72, 74))]
    rows += [_row("neurosim", "Ag:a-Si", "off", 90.0, value="c2c"),
             _row("neurosim", "Ag:a-Si", "off", 75.0, value="nl")]
    s = findings.summary(findings.runs(rows, "neurosim", "Ag:a-Si", "baseline"))
    assert s["mean"] == pytest.approx(72) and s["sd"] == pytest.approx(2.0)
    assert "agrees" in findings.verdict(s, "Ag:a-Si")
    assert "points below" in findings.verdict({**s, "mean": 50.0}, "Ag:a-Si")
    assert "points above" in findings.verdict({**s, "mean": 90.0}, "Ag:a-Si")
    why, gains = findings.limiting(rows, "neurosim", "Ag:a-Si")
    # +18 beyond 2 * 2.0 * sqrt(1/3 + 1) = 4.6; +3 is inside it
    assert "cycle-to-cycle" in why and gains == {"c2c": 18.0, "nl": 3.0}
    rows[-2]["accuracy_pct"] = 74.0
    why, _ = findings.limiting(rows, "neurosim", "Ag:a-Si")
    assert "no single parameter" in why


def test_bad_inputs_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="dataset"):
        reproduce_neurosim_mlp(tmp_path / "x", dataset="digits")
    with pytest.raises(ParameterError, match="binary"):
        validate_model(NeurosimMlpConfig, {"devices": ["ReRAM-1"]})
    assert not (tmp_path / "x").exists()
    q = quick_config()
    assert q.epochs == 5 and q.name.endswith("-quick")
