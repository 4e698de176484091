"""The papers' studies, each a package beside the experiment engine, with its reference data and
the prose of its findings as data files:

- ``vmm_errors``: Chowdhury et al. 2024 (MELISO), VMM error distributions of four literature
  RRAM devices under both read models (``meliso reproduce meliso``);
- ``bnn_tnn``: Cubero-Cascante et al. 2025, binary and ternary CNNs on binary 1T1R crossbars
  (``meliso reproduce cim``);
- ``analog_nn``: float networks (an MLP, LeNet-5) on the multilevel devices of Chowdhury et
  al. 2024, with what limits each device and hardware-aware training (``meliso reproduce
  analog-nn``);
- ``neurosim_mlp``: MLP_NeuroSim V3.0's on-chip learning benchmark on the same devices, both
  read models beside its manual's Table II (``meliso reproduce neurosim-mlp``).

:func:`rebuild_report` (``meliso report``) rebuilds a folder's outputs, whichever study or plain
experiment wrote it.
"""

from __future__ import annotations

from pathlib import Path

from .._validation import ParameterError
from ..experiments.report import build_report
from ..experiments.rundir import MARKER, read_marker, writing
from .analog_nn.run import rebuild_analog_nn
from .bnn_tnn.run import rebuild_cim
from .neurosim_mlp.run import rebuild_neurosim_mlp
from .vmm_errors.study import rebuild_meliso

#: study name (in a folder's marker) -> what rebuilds its outputs
REBUILD = {"meliso": rebuild_meliso, "cim": rebuild_cim, "analog-nn": rebuild_analog_nn,
           "neurosim-mlp": rebuild_neurosim_mlp}


def rebuild_report(run_dir: str | Path) -> Path:
    """Rebuild the report of a run or of a study folder; returns its path."""
    root = Path(run_dir)
    if not root.is_dir():
        raise ParameterError(f"{root} is not a folder")
    marker = read_marker(root)
    if marker is None:
        raise ParameterError(f"{root} is not a meliso run or study (no {MARKER} file)")
    with writing(root):
        rebuild = REBUILD.get(marker.get("study") or "", build_report)
        return rebuild(root)
