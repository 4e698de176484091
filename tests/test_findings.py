"""The MELISO study end to end (quick), and the evidence behind the report's mechanisms."""

import csv

import numpy as np
import pytest
from scipy import stats

from meliso.core import AnalogCore
from meliso.devices import get_device
from meliso.studies.vmm_errors.findings import FINDINGS
from meliso.studies.vmm_errors.study import paper_table2, reproduce_meliso

STATS = ["mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5", "p97_5"]
COLUMNS = {
    "table2.csv": ["model", "device", "nonideal", "best_fit", *STATS],
    "fig2a.csv": ["model", "weight_bits", *STATS],
    "fig2b.csv": ["model", "memory_window", *STATS],
    "fig3.csv": ["model", "nl", *STATS],
    "fig4.csv": ["model", "with_nl", "c2c", *STATS],
}


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    reproduce_meliso(out, quick=True, seeds=2)
    return out


def test_quick_study_writes_every_output(quick_study):
    for name, cols in COLUMNS.items():
        with open(quick_study / name) as fh:
            rows = list(csv.DictReader(fh))
        assert rows, name
        assert set(cols) <= set(rows[0]), (name, rows[0].keys())
        assert {r["model"] for r in rows} == {"physics", "neurosim"}
    assert len(list(csv.DictReader(open(quick_study / "table2.csv")))) == 16
    figures = {p.name for p in (quick_study / "figures").iterdir()}
    for stem in ("fig2a_physics", "fig2b_neurosim", "fig3_physics_hist", "fig4_neurosim",
                 "fig5a_physics", "fig5b_neurosim"):
        assert f"{stem}.png" in figures and f"{stem}.pdf" in figures
    report = (quick_study / "report.md").read_text()
    assert report.index("**The error.** e = y − A·x") < report.index("## Table II")
    for paper_row in paper_table2():  # the paper's Table II is set beside both models
        on = "on" if paper_row["nonideal"] else "off"
        assert f"| {paper_row['device']} | {on} | paper | {paper_row['best_fit']} |" in report
    for model in ("physics", "neurosim"):  # all four moments, intervals and non-finite counts
        rows = [ln for ln in report.splitlines() if ln.startswith(f"|  |  | {model} model |")]
        assert len(rows) == 8
        assert all(ln.count("[") >= 2 and " of " in ln for ln in rows), rows[0]
    for finding in FINDINGS:
        assert f"### {finding.label}: " in report
    assert report.count("- **physics: ") == len(FINDINGS)
    assert report.count("- **neurosim: ") == len(FINDINGS)
    assert "physics or artefact" in report and "/2 seeds" in report
    assert "Quick run" in report
    html = (quick_study / "report.html").read_text()
    assert html.count("<img") == report.count("![") and "data:image/png;base64," in html


def test_quick_study_rerun_is_fully_cached(quick_study, capsys):
    calls = []

    def on_point(name):
        return lambda done, total, record, cached: calls.append(cached)

    reproduce_meliso(quick_study, quick=True, seeds=2, on_point=on_point)
    assert calls and all(calls)


def test_report_rebuilds_the_study_folder(quick_study):
    """`meliso report` on a study folder writes the study's own outputs again, from the
    stored runs alone (nothing simulated), identical to the first time."""
    from typer.testing import CliRunner

    from meliso.cli import app

    before = {n: (quick_study / n).read_bytes() for n in (*COLUMNS, "report.md", "report.html")}
    for name in before:
        (quick_study / name).unlink()
    res = CliRunner().invoke(app, ["report", str(quick_study)])
    assert res.exit_code == 0, res.output
    assert {n: (quick_study / n).read_bytes() for n in before} == before


def test_physics_verdicts_on_the_quick_study(quick_study):
    """The physics findings the tests of test_population.py establish hold here too."""
    from meliso.experiments.store import read_results
    from meliso.studies.vmm_errors.findings import FINDINGS as F

    results = {n: read_results(quick_study / f"{n}-quick")
               for n in ("fig2a", "fig2b", "fig3", "fig4", "table2")}
    status = {f.label: f.test(results, "physics").status for f in F}
    assert status["Fig. 2a"] == "reproduced"
    assert status["Fig. 2b"] == "not reproduced"  # the window drops out of a differential read
    assert status["Fig. 4a/b"] == "reproduced"
    assert status["Fig. 5b"] in ("reproduced", "partly")  # EpiRAM best in any case
    ns = {f.label: f.test(results, "neurosim").status for f in F}
    assert ns["Fig. 2b"] == "reproduced"  # the Q1 offset shrinks as the window widens


def test_neurosim_calibration_masks_nonlinearity():
    """Evidence for the Fig. 3 mechanism stated for the neurosim model."""
    rng = np.random.default_rng(0)
    a, x = rng.uniform(-1, 1, (300, 32, 32)), rng.uniform(0, 1, (300, 32))
    x_q = np.floor(x * 1023 + 0.5) / 1023
    raw_iqr, cal_iqr = [], []
    for nl in (0, 5):
        dev = get_device("Ag:a-Si", on_off_ratio=100, sigma_c2c=0, nl_ltp=nl, nl_ltd=-nl)
        raw = AnalogCore(a, dev, model="neurosim", calibration="none").matvec(x)
        offset = 2 / (100 - 1) * x_q.sum(-1, keepdims=True)  # the Q1 offset, removed
        raw_iqr.append(stats.iqr(raw + offset - np.einsum("tij,tj->ti", a, x_q)))
        cal = AnalogCore(a, dev, model="neurosim").matvec(x) - np.einsum("tij,tj->ti", a, x)
        cal_iqr.append(stats.iqr(cal[np.isfinite(cal)]))
    assert raw_iqr[1] > 10 * raw_iqr[0]  # NeuroSim's own read follows NL
    assert cal_iqr[0] > 5 * raw_iqr[0]  # the calibration adds its own error at NL = 0
    assert cal_iqr[1] < 0.7 * raw_iqr[1]  # and removes part of NL's error at NL = 5


def test_verdict_robustness_and_origin():
    """A verdict is the majority over the run seeds (ties to the weaker), said with its count;
    what reproduces it is read from both models' verdicts."""
    from meliso.studies.vmm_errors.findings import Verdict
    from meliso.studies.vmm_errors.verdicts import SeedVerdict, origin

    def seeds(*statuses):
        score = {"reproduced": 2, "partly": 1, "not reproduced": 0}
        return SeedVerdict(tuple(Verdict(score[s], 2, "evidence") for s in statuses))

    five = seeds(*["reproduced"] * 5)
    assert five.status == "reproduced" and five.robustness == "reproduced in 5/5 seeds"
    split = seeds("reproduced", "reproduced", "partly", "partly")
    assert split.status == "partly"  # a tie goes to the weaker verdict
    assert split.robustness == "reproduced in 2/4, partly in 2/4 seeds"
    none, partly = seeds("not reproduced"), seeds("partly")
    assert origin(five, five) == "physics"
    assert origin(none, five) == "NeuroSim artefact"
    assert origin(five, none) == "physics (NeuroSim masks it)"
    assert origin(partly, none) == "partly physics (NeuroSim masks it)"
    assert origin(partly, five) == "partly physics, the rest a NeuroSim artefact"
    assert origin(none, none) == "neither model"
