"""Workloads on top of the cores: VMM Monte-Carlo populations (Chowdhury et al. 2024) and
binary/ternary matrix-vector populations on binary 1T1R cores (Cubero-Cascante et al. 2025)."""

from .binary_population import BinaryPopulation, binary_vmm_population
from .population import (
    POPULATION_DEFAULTS,
    Population,
    check_population_memory,
    vmm_population,
)

__all__ = ["POPULATION_DEFAULTS", "BinaryPopulation", "Population", "binary_vmm_population",
           "check_population_memory", "vmm_population"]
