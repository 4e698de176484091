"""Verdicts that say how robust they are: each finding judged on every run seed, and whether
what reproduces it is device physics or an artefact of NeuroSim's read path.

A verdict is *reproduced* when all of a finding's conditions hold on the populations of one run
seed, *partly* when some do, *not reproduced* when none does. The study runs every experiment with
several run seeds (new matrices, inputs and device noise each); a finding's verdict is the one
most seeds give (ties go to the weaker verdict), stated with its count ("reproduced in 5/5
seeds"), and its evidence is the numbers of the first run seed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .findings import Finding, Rows, Verdict

ORDER = ("not reproduced", "partly", "reproduced")


@dataclass(frozen=True)
class SeedVerdict:
    """A finding's verdicts for one model over the run seeds."""

    verdicts: tuple[Verdict, ...]

    @property
    def primary(self) -> Verdict:
        """The verdict on the first run seed (its evidence is the report's)."""
        return self.verdicts[0]

    @property
    def status(self) -> str:
        """The verdict most seeds give; ties go to the weaker one."""
        counts = Counter(v.status for v in self.verdicts)
        return max(ORDER, key=lambda s: (counts[s], -ORDER.index(s)))

    @property
    def robustness(self) -> str:
        """``reproduced in 5/5 seeds``, or each status with its count."""
        counts = Counter(v.status for v in self.verdicts)
        n = len(self.verdicts)
        parts = [f"{s} in {counts[s]}/{n}" for s in reversed(ORDER) if counts[s]]
        return ", ".join(parts) + (" seeds" if n > 1 else " seed")


def judge(finding: Finding, by_seed: list[dict[str, Rows]], model: str) -> SeedVerdict:
    """``finding``'s verdict for ``model`` on the results of every run seed."""
    return SeedVerdict(tuple(finding.test(results, model) for results in by_seed))


def origin(physics: SeedVerdict | None, neurosim: SeedVerdict | None) -> str:
    """What reproduces a finding: device physics, an artefact of NeuroSim's read path, or
    neither (from the two models' majority verdicts)."""
    if physics is None or neurosim is None:
        return "one model run"
    p, n = ORDER.index(physics.status), ORDER.index(neurosim.status)
    if p == 2:
        return "physics" if n else "physics (NeuroSim masks it)"
    if p == 1:
        return {0: "partly physics (NeuroSim masks it)", 1: "partly physics",
                2: "partly physics, the rest a NeuroSim artefact"}[n]
    return "NeuroSim artefact" if n else "neither model"
