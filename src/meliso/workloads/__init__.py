"""Workloads on top of the cores: VMM Monte-Carlo populations (seed 000)."""

from .population import Population, vmm_population

__all__ = ["Population", "vmm_population"]
