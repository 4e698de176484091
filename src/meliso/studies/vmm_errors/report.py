"""``report.md`` of the MELISO study: the paper's Table II beside both models, and every finding
with its verdict, evidence and mechanism."""

from __future__ import annotations

from pathlib import Path

from ..._io import atomic_write_text
from ...experiments.report import markdown_table
from .figures import study_figures
from .findings import FINDINGS, Rows, select


def write_study_report(root: Path, results: dict[str, Rows], paper: Rows, *,
                       quick: bool = False) -> Path:
    """``report.md`` and ``figures/`` of the MELISO study in ``root``."""
    models = list(dict.fromkeys(r["model"] for r in results["table2"]))
    figures = study_figures(root, results, models)
    trials = results["table2"][0]["trials"]
    lines = [
        "# The MELISO study (Chowdhury et al. 2024), physics beside NeuroSim\n",
        f"{trials} trials of 32x32 per point, A ~ U[-1, 1], x ~ U[0, 1]; every point "
        "multiplies the same population (common random numbers). Models: "
        f"{', '.join(models)}. `physics`: differential read, nominal decode. `neurosim`: "
        "MELISO's NeuroSim read path bit for bit, with its two-point calibration.\n",
    ]
    if quick:
        lines.append("**Quick run** (reduced trials): verdicts can differ from the full "
                     "study.\n")
    lines.append("## Table II: the paper beside both models\n")
    table = []
    for s in paper:
        row = {"device": s["device"], "nonideal": s["nonideal"], "paper best fit": s["best_fit"],
               "paper variance": s["variance"], "paper skewness": s["skewness"],
               "paper kurtosis": s["kurtosis"]}
        for model in models:
            (r,) = select(results["table2"], model=model, device=s["device"],
                        nonideal=s["nonideal"])
            row.update({f"{model} best fit": r.get("best_fit"),
                        f"{model} variance": r["variance"], f"{model} kurtosis": r["kurtosis"],
                        f"{model} IQR": r["iqr"]})
        table.append(row)
    lines.append(markdown_table(table, list(table[0])))
    lines.append("\nFull statistics: `table2.csv`, `fig2a.csv`, `fig2b.csv`, `fig3.csv`, "
                 "`fig4.csv`.\n")
    lines.append("## The paper's findings: physics or NeuroSim artefact?\n")
    lines.append("Spread is judged by the IQR (robust to the calibration's heavy tails); "
                 "variances are given beside it. A finding is *reproduced* when all its "
                 "conditions hold, *partly* when some do.\n")
    summary = []
    for f in FINDINGS:
        verdicts = {m: f.test(results, m) for m in models}
        summary.append({"finding": f.label, "claim": f.claim,
                        **{m: v.status for m, v in verdicts.items()}})
        lines.append(f"### {f.label}: {f.claim}\n")
        for m, v in verdicts.items():
            lines.append(f"- **{m}: {v.status}** ({v.score} of {v.of} conditions). "
                         f"{v.evidence}. *Mechanism:* {f.mechanism[m]}")
        lines.append("")
    lines.insert(lines.index("## The paper's findings: physics or NeuroSim artefact?\n") + 1,
                 markdown_table(summary, list(summary[0])) + "\n")
    lines.append("## Figures\n")
    lines += [f"### {title}\n\n![{title}]({path})\n" for title, path in figures]
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path
