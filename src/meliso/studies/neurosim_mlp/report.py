"""``learning.csv``, figures, ``report.md`` and ``report.html`` of the on-chip learning study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..._io import write_csv
from ...experiments.report import markdown_table
from .._shared import finish_report
from .figures import study_figures
from .findings import (
    TOLERANCE_PCT,
    ablation_rows,
    baseline_rows,
    cost_rows,
    headline,
    reference,
    sentences,
)
from .study import NeurosimMlpConfig

COLUMNS = ["model", "device", "variant", "value", "run", "accuracy_pct", "accuracy_ci_low_pct",
           "accuracy_ci_high_pct", "best_accuracy_pct", "n_images", "pulses_total",
           "cells_written_total", "write_energy_j", "write_latency_s", "images_per_second",
           "seconds_training"]


def write_outputs(root: Path, config: NeurosimMlpConfig, rows: list[dict[str, Any]], *,
                  quick: bool = False) -> Path:
    """The study's CSV, figures and report of finished ``rows``; returns the report's path."""
    write_csv(root / "learning.csv", rows, COLUMNS)
    figures = study_figures(root, rows, config.images_per_epoch)
    table, lines = headline(rows)
    ref = reference()
    train = "4000" if config.dataset == "mnist5k" else "60 000"
    test = "1000" if config.dataset == "mnist5k" else "10 000"
    seconds = sum(float(r.get("seconds_training", 0.0)) for r in rows)
    images = sum(config.epochs * config.images_per_epoch for _ in rows)
    text = [
        "# On-chip learning: MLP_NeuroSim's MNIST benchmark on the Table I devices\n",
        "A 400-100-10 sigmoid MLP trained image by image with every weight update sent as "
        "write pulses to the devices (`meliso.learning.train_insitu`): MLP_NeuroSim V3.0's "
        f"protocol, {config.epochs} epochs × {config.images_per_epoch} random training images, "
        "learning rates 0.4 and 0.2, 20×20 black-and-white inputs, 1-bit hidden activations "
        "and 8-bit partial sums in the forward pass. Each device as published (Chowdhury et al. "
        "2024, Table I), under both read models, beside the accuracy the MLP_NeuroSim manual "
        f"reports ({ref['source']}).\n",
        f"**Protocol change**: `{config.dataset}` — {train} training images (MLP_NeuroSim: "
        f"60 000) and {test} test images (10 000)"
        + (f", so each training image is seen about {config.images_per_epoch / 4000:.2g} "
           f"times per epoch instead of {config.images_per_epoch / 60000:.2g}." if
           config.dataset == "mnist5k" else ".")
        + " Accuracy is the last epoch's test accuracy in %, as the manual reports it: the "
        "mean over runs ± their spread (sample standard deviation) [95 % Wilson interval of "
        "the test images pooled over the runs].\n",
    ]
    if quick:
        text.append(f"**Quick run** ({config.epochs} epochs of {config.images_per_epoch} "
                    f"images, {config.seeds} runs): far from converged; the verdicts are not "
                    "the study's.\n")
    text += ["## Summary\n", markdown_table(table, list(table[0]) if table else []), "",
             sentences()["tolerance"].format(tol=TOLERANCE_PCT) + "\n",
             "## Each device\n", *lines, "", "## Why the two models differ\n",
             sentences()["models"] + "\n"]
    base = baseline_rows(rows)
    if base:
        text += ["## Baselines\n", markdown_table(base, list(base[0])),
                 f"\nThe manual gives {ref['software_accuracy_pct'][0]:.0f}–"
                 f"{ref['software_accuracy_pct'][1]:.0f} % for software on full MNIST.\n"]
    abl = ablation_rows(rows)
    if abl:
        cols = list(dict.fromkeys(k for r in abl for k in r))
        text += ["## What limits each device\n",
                 "Change of the final accuracy (points) when one parameter is switched off, "
                 f"{config.ablation_seeds} run(s) each, beside the mean accuracy as published.\n",
                 markdown_table(abl, cols), ""]
    cost = cost_rows(rows)
    if cost:
        text += ["## Cost of training and speed\n",
                 "Whole training (first run): pulses, the cells' write energy "
                 "V² (G_before + G_after)/2 t per pulse (MLP_NeuroSim's cell term, without its "
                 "wire and periphery energy) and write latency (each write operation on a batch "
                 "of ceil(columns/16) cells lasts its longest LTP train plus its longest LTD "
                 "train). The manual's energy and latency include the periphery and the reads. "
                 "Images/s: training images per second of one core (MLP_NeuroSim: about 1 hour "
                 "for one device's 1 000 000 images on a 16-thread CPU, ≈ 280 images/s).\n",
                 markdown_table(cost, list(cost[0])), "",
                 f"Simulated: {images:,} training images in {seconds:.0f} s of training "
                 f"({images / max(seconds, 1e-9):,.0f} images/s over the whole study).\n"]
    text += ["All runs: `learning.csv`; accuracy after every evaluated epoch: "
             "`results.parquet` (`curve_epochs`, `curve_accuracy_pct`).\n", "## Figures\n"]
    return finish_report(root, text, figures, "On-chip learning on multilevel RRAM")
