"""``report.md`` (and ``report.html``) of the MELISO study: the paper's Table II beside both
models with all four moments and intervals, and every finding with its verdict over the run
seeds, whether device physics or NeuroSim's read path produces it, the evidence and the
mechanism."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..._io import atomic_write_text
from ...analysis.fits import family_name
from ...experiments.html import write_html_report
from ...experiments.report import markdown_table
from .figures import study_figures
from .findings import FINDINGS, Rows, select
from .verdicts import SeedVerdict, judge, origin

DEFINITION = (
    "**The error.** e = y − A·x for every output of every trial: the hardware's output minus "
    "the exact product, in the units of A·x (A uniform in [−1, 1], x uniform in [0, 1], "
    "32×32, so the exact outputs have an RMS of √(32/9) ≈ 1.9). Spread is judged by the "
    "interquartile range (IQR), robust to the two-point calibration's heavy tails; the four "
    "moments are given beside it, moments over the finite errors (the non-finite ones are "
    "counted). Intervals: 95 % bootstrap over whole trials.\n")


def _ci(row: dict[str, Any], key: str) -> str:
    lo, hi = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    value = row.get(key)
    if value is None or not math.isfinite(float(value)):
        return str(value)
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{value:.4g}"
    return f"{value:.4g} [{lo:.4g}, {hi:.4g}]"


def _table2(paper: Rows, table2: Rows, models: list[str]) -> list[dict[str, Any]]:
    rows = []
    for s in paper:
        rows.append({"device": s["device"], "NL and C-to-C": "on" if s["nonideal"] else "off",
                     "source": "paper", "best fit": s["best_fit"], "mean": s["mean"],
                     "variance [95 % CI]": f"{s['variance']:.4g}", "skewness": s["skewness"],
                     "excess kurtosis": s["kurtosis"], "IQR [95 % CI]": "", "non-finite": ""})
        for model in models:
            (r,) = select(table2, model=model, device=s["device"], nonideal=s["nonideal"])
            rows.append({"device": "", "NL and C-to-C": "", "source": f"{model} model",
                         "best fit": family_name(r.get("best_fit")), "mean": r["mean"],
                         "variance [95 % CI]": _ci(r, "variance"), "skewness": r["skewness"],
                         "excess kurtosis": r["kurtosis"], "IQR [95 % CI]": _ci(r, "iqr"),
                         "non-finite": f"{int(r['n_nonfinite'])} of {int(r['n'])}"})
    return rows


def _findings(by_seed: list[dict[str, Rows]], models: list[str]) -> tuple[list[str], list[dict]]:
    lines, summary = [], []
    for f in FINDINGS:
        verdicts: dict[str, SeedVerdict] = {m: judge(f, by_seed, m) for m in models}
        row: dict[str, Any] = {"finding": f.label, "claim": f.claim}
        row.update({m: verdicts[m].robustness for m in models})
        row["physics or artefact"] = origin(verdicts.get("physics"), verdicts.get("neurosim"))
        summary.append(row)
        lines.append(f"### {f.label}: {f.claim}\n")
        lines.append(f"*Physics or artefact:* {row['physics or artefact']}.\n")
        for m, v in verdicts.items():
            p = v.primary
            lines.append(f"- **{m}: {v.status}** ({v.robustness}; first seed: {p.score} of "
                         f"{p.of} conditions). {p.evidence}. *Mechanism:* {f.mechanism[m]}")
        lines.append("")
    return lines, summary


def write_study_report(root: Path, by_seed: list[dict[str, Rows]], paper: Rows, *,
                       quick: bool = False) -> Path:
    """``report.md``, ``report.html`` and ``figures/`` of the MELISO study in ``root``."""
    first = by_seed[0]
    models = list(dict.fromkeys(r["model"] for r in first["table2"]))
    figures = study_figures(root, first, models)
    trials = first["table2"][0]["trials"]
    lines = [
        "# The MELISO study (Chowdhury et al. 2024), physics beside NeuroSim\n",
        f"{trials} trials of 32x32 per point, {len(by_seed)} run seed(s); within a seed every "
        "point multiplies the same population (common random numbers). Models: "
        f"{', '.join(models)}. `physics`: differential read, nominal decode. `neurosim`: "
        "MELISO's NeuroSim read path bit for bit, with its two-point calibration.\n",
        DEFINITION,
    ]
    if quick:
        lines.append(f"**Quick run** ({trials} trials per point instead of 1000): intervals "
                     "are wider and verdicts can differ from the full study.\n")
    lines += ["## Table II: the paper beside both models\n",
              markdown_table(_table2(paper, first["table2"], models),
                             ["device", "NL and C-to-C", "source", "best fit", "mean",
                              "variance [95 % CI]", "skewness", "excess kurtosis",
                              "IQR [95 % CI]", "non-finite"]),
              "\nFull statistics of the first seed, with intervals: `table2.csv`, `fig2a.csv`, "
              "`fig2b.csv`, `fig3.csv`, `fig4.csv`.\n",
              "## The paper's findings: physics or NeuroSim artefact?\n",
              "A finding is *reproduced* on a seed when all its conditions hold, *partly* when "
              "some do; its verdict is the one most seeds give. *Physics or artefact*: "
              "`physics` when meliso's physics reproduces it, `NeuroSim artefact` when only "
              "MELISO's NeuroSim read path does.\n"]
    detail, summary = _findings(by_seed, models)
    lines += [markdown_table(summary, list(summary[0])) + "\n", *detail, "## Figures\n"]
    lines += [f"### {title}\n\n![{title}]({path})\n\n{caption}\n"
              for title, path, caption in figures]
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    write_html_report(path, title="The MELISO study")
    return path
