"""The MELISO study's experiments and where their runs live inside the study folder."""

from __future__ import annotations

#: The experiments of the study (one YAML file each in ``experiments/``), in report order.
EXPERIMENTS = ("fig2a", "fig2b", "fig3", "fig4", "table2")
#: The parameters each experiment sweeps (CSV columns).
SWEPT = {"fig2a": ["weight_bits"], "fig2b": ["memory_window"], "fig3": ["nl"],
         "fig4": ["with_nl", "c2c"], "table2": ["device", "nonideal"]}


def run_name(name: str, *, quick: bool = False, seed: int = 0) -> str:
    """The run folder of an experiment: ``fig2a``, ``fig2a-quick``, ``fig2a-s3``..."""
    return (f"{name}-quick" if quick else name) + (f"-s{seed}" if seed else "")
