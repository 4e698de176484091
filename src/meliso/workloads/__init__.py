"""Workloads on top of the cores: VMM Monte-Carlo populations (seed 000)."""

from .population import POPULATION_DEFAULTS, Population, vmm_population

__all__ = ["POPULATION_DEFAULTS", "Population", "vmm_population"]
