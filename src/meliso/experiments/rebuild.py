"""``meliso report``: rebuild a folder's outputs from what it stores, whatever wrote it."""

from __future__ import annotations

from pathlib import Path

from .._validation import ParameterError
from .rundir import MARKER, locked, read_marker


def rebuild_report(run_dir: str | Path) -> Path:
    """Rebuild the report of a run, of a MELISO study or of a CIM study; returns its path."""
    root = Path(run_dir)
    if not root.is_dir():
        raise ParameterError(f"{root} is not a folder")
    marker = read_marker(root)
    if marker is None:
        raise ParameterError(f"{root} is not a meliso run or study (no {MARKER} file)")
    with locked(root):
        study = marker.get("study")
        if study == "meliso":
            from .reproduce import rebuild_meliso

            return rebuild_meliso(root)
        if study == "cim":
            from .cim import rebuild_cim

            return rebuild_cim(root)
        from .report import build_report

        return build_report(root)
