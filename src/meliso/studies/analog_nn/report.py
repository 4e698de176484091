"""``accuracy.csv``, figures, ``report.md`` and ``report.html`` of the analog-network study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..._io import write_csv
from ...experiments.report import markdown_table
from ...experiments.store import read_point_array
from .._shared import finish_report
from .figures import study_figures
from .findings import findings
from .study import AnalogNnConfig

COLUMNS = ["net", "device", "variant", "value", "accuracy_pct", "accuracy_ci_low_pct",
           "accuracy_ci_high_pct", "chip_std_pct", "n_images", "software_accuracy_pct",
           "energy_per_mac_j", "pulses_total", "verify_iterations_mean"]


def with_outcomes(root: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their per-image outcomes ``_correct`` (chips x images, 1 where a chip's
    prediction is right) and true labels ``_labels``, from the stored predictions and labels,
    where the run kept them: an array of chips + 1 rows whose outcomes reproduce the row's
    stored accuracy (points stored before the labels were kept hold chips rows of predictions
    alone, and get neither)."""
    out = []
    for r in rows:
        arr = read_point_array(root, str(r.get("key", "")))
        r = dict(r)
        per_chip = r.get("chip_accuracy_pct") or []
        try:
            chips = len(json.loads(per_chip) if isinstance(per_chip, str) else per_chip)
        except (TypeError, ValueError):  # not a list: no outcomes, the unpaired test
            chips = 0
        if arr is not None and arr.ndim == 2 and arr.shape == (chips + 1, int(r["n_images"])) \
                and chips > 0:
            correct = (arr[:-1] == arr[-1]).astype(np.float64)
            if abs(100 * float(correct.mean()) - float(r["accuracy_pct"])) <= 1e-6:
                r["_correct"], r["_labels"] = correct, arr[-1]
        out.append(r)
    return out


def write_outputs(root: Path, config: AnalogNnConfig, rows: list[dict[str, Any]], *,
                  quick: bool = False) -> Path:
    """The study's CSV, figures and report of finished ``rows``; returns the report's path."""
    write_csv(root / "accuracy.csv", rows, COLUMNS)
    figures = study_figures(root, rows)
    table, lines = findings(with_outcomes(root, rows))
    text = [
        "# Float networks on the multilevel devices of Chowdhury et al. 2024\n",
        f"{', '.join(config.nets)} trained in float on `{config.dataset}`, then every dense "
        "and convolutional layer run on analog crossbars of each device with "
        "`meliso.nn.to_analog` (differential pairs on 32×32 tiles, open-loop programming, "
        "analog inputs, ideal ADC and wires unless a row says otherwise). "
        f"{config.chips} programmed chips per point, {config.images} test images.\n",
        "**Accuracy** is the mean top-1 accuracy over the chips, in %, with the spread across "
        "chips (± one standard deviation: the device's programming variation) and the 95 % "
        "Wilson interval of the test images' binomial noise. Two points are compared image "
        "by image on the same test images (a paired sign-flip test, the exact McNemar test "
        "with one chip, at 95 %); a difference it does not resolve is called *within "
        "noise*.\n",
    ]
    if quick:
        text.append(f"**Quick run** ({config.chips} chips, {config.images} test images, "
                    "three values per sweep): intervals are wider than the full study's.\n")
    text += ["## Summary\n",
             markdown_table(table, list(table[0]) if table else []),
             "\n*Limited by*: the non-ideality whose removal gains the most accuracy beyond "
             "noise. *Weight bits needed*: the fewest swept bits whose mean accuracy is within "
             "1 point of 2^11 states. *ADC bits needed*: the fewest within 1 point of an "
             "ideal ADC. *C-to-C tolerated*: the largest swept variation within 1 point of "
             "none. Where the number of states changes, sigma_C2C is scaled to keep the noise "
             "of a full-window write the device's (`docs/studies.md`).\n",
             "## Each device\n", *lines, "",
             "## Every point\n",
             markdown_table([{**r, "accuracy": f"{r['accuracy_pct']:.1f} ± "
                              f"{r['chip_std_pct']:.1f} [{r['accuracy_ci_low_pct']:.1f}, "
                              f"{r['accuracy_ci_high_pct']:.1f}]"} for r in rows],
                            ["net", "device", "variant", "value", "accuracy",
                             "energy_per_mac_j"]),
             "\nAll columns: `accuracy.csv`.\n", "## Figures\n"]
    return finish_report(root, text, figures, "Float networks on multilevel RRAM")
