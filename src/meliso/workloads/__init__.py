"""Workloads on top of the cores: VMM Monte-Carlo populations (seed 000) and binary/ternary
matrix-vector populations on binary 1T1R cores (seed 003)."""

from .binary_population import BinaryPopulation, binary_vmm_population
from .population import (
    POPULATION_DEFAULTS,
    Population,
    check_population_memory,
    vmm_population,
)

__all__ = ["POPULATION_DEFAULTS", "BinaryPopulation", "Population", "binary_vmm_population",
           "check_population_memory", "vmm_population"]
