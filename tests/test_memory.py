"""Memory estimates are upper bounds of the measured peak (tracemalloc), and the budget is read
from the environment; ``benchmarks/memory.py`` prints the full table with ratios."""


import numpy as np
import pytest

from meliso import ParameterError
from meliso._memory import (
    available_bytes,
    check_memory,
    format_bytes,
    parse_bytes,
    traced_peak_bytes,
)
from meliso.core.plan import plan_core
from meliso.devices import get_device
from meliso.linalg import CrossbarMatrix, problem
from meliso.linalg.matrix import product_bytes, programming_bytes
from meliso.mapping.encodings import get_encoding
from meliso.workloads import POPULATION_DEFAULTS, binary_vmm_population, vmm_population
from meliso.workloads.binary_population import binary_population_bytes


@pytest.mark.parametrize("device, settings", [
    ("Ag:a-Si", {}), ("Ag:a-Si", {"model": "neurosim"}), ("EpiRAM", {"programming":
                                                                      "write-verify"}),
    ("PCM", {}), ("ideal", {"r_bitline_ohm": 1.0}), ("TaOx/HfOx", {"mapping": "reference"}),
])
def test_population_estimate_bounds_thetraced_peak_bytes(device, settings):
    dev = get_device(device)
    plan = plan_core((200, 32, 32), dev, {**POPULATION_DEFAULTS, **settings})
    estimate = plan.program_bytes() + plan.read_bytes(1) + 8 * 200 * (32 * 32 + 4 * 32 + 32)
    peak = traced_peak_bytes(lambda: vmm_population(dev, trials=200, **settings))
    assert peak <= estimate <= 4 * peak


@pytest.mark.parametrize("encoding, crossbar", [("T-I", 128), ("B-I", 64), ("T-II", 256)])
def test_binary_population_estimate_bounds_thetraced_peak_bytes(encoding, crossbar):
    rows, cols, vectors = 286, 64, 400
    tiles = -(-rows // crossbar) * -(-cols // (crossbar // 2))
    estimate = binary_population_bytes(rows, cols, 400, tiles, crossbar**2, crossbar,
                                       get_encoding(encoding).cycles)
    peak = traced_peak_bytes(lambda: binary_vmm_population("ReRAM-1", encoding, crossbar, 4,
                                               size=(rows, cols), vectors=vectors,
                                               profile_vectors=100))
    assert peak <= estimate <= 4 * peak


def test_crossbar_matrix_estimates_bound_the_peaks():
    a = problem("poisson2d:32")
    dev = get_device("EpiRAM")
    hw = CrossbarMatrix(a, dev, tile=(64, 64), residual_arrays=1)
    programming = traced_peak_bytes(lambda: CrossbarMatrix(a, dev, tile=(64, 64),
                                                           residual_arrays=1))
    assert programming <= programming_bytes(len(hw.blocks), (64, 64), dev, {}, 1, 256)
    x = np.ones((20, a.shape[1]))
    assert traced_peak_bytes(lambda: hw @ x) <= product_bytes(hw.shape, 20, hw.n_tiles, (64, 64), 2)


def test_budget_from_the_environment(monkeypatch):
    assert parse_bytes("2GiB") == 2 * 2**30 and parse_bytes("512MB") == 512 * 10**6
    assert parse_bytes("1000") == 1000 and format_bytes(1.5 * 2**30) == "1.5 GiB"
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "1MiB")
    assert available_bytes() == 2**20
    check_memory(2**19, "half", "nothing")
    with pytest.raises(ParameterError, match=r"twice needs about 2\.0 MiB of memory, more than "
                                             r"the 1\.0 MiB available .*: lower it"):
        check_memory(2**21, "twice", "lower it")
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "lots")
    with pytest.raises(ParameterError, match="MELISO_MEMORY_LIMIT = 'lots'"):
        available_bytes()
    monkeypatch.delenv("MELISO_MEMORY_LIMIT")
    assert available_bytes() > 2**20  # the machine's own MemAvailable
