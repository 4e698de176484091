"""Memory estimates against measured peaks: every estimate meliso checks before allocating.

meliso refuses a request whose estimated memory exceeds the budget (``MELISO_MEMORY_LIMIT`` or
the available memory) before it allocates anything. An estimate must not fall below the real
peak (else a request that cannot fit is let through) and should not be far above it (else one
that fits is refused). This script measures the peak with tracemalloc (NumPy's allocations are
traced) for each workload across devices, mappings, programming modes, tilings and sizes, and
prints estimate / peak; the goal is 1 <= ratio <= 4 for every row.

    python benchmarks/memory.py
"""

from __future__ import annotations

from typing import Any

import numpy as np

from meliso._memory import traced_peak_bytes
from meliso.circuit.iv import ACCESS_PRESETS, SinhCell
from meliso.circuit.iv_numba import encode
from meliso.circuit.nonlinear import solve_nonlinear
from meliso.circuit.nonlinear_memory import path_of, solve_bytes
from meliso.core.plan import plan_core
from meliso.devices import get_device
from meliso.linalg import CrossbarMatrix, problem
from meliso.linalg.matrix import product_bytes, programming_bytes
from meliso.mapping.encodings import get_encoding
from meliso.workloads import POPULATION_DEFAULTS, binary_vmm_population, vmm_population
from meliso.workloads.binary_population import binary_population_bytes


def populations() -> list[tuple[str, int, int]]:
    rows = []
    cases: list[tuple[str, int, int, int, dict[str, Any]]] = [
        ("Ag:a-Si", 1000, 32, 32, {}),
        ("Ag:a-Si", 1000, 32, 32, {"input_bits": 8}),
        ("Ag:a-Si", 1000, 32, 32, {"model": "neurosim"}),
        ("EpiRAM", 500, 32, 32, {"programming": "write-verify"}),
        ("PCM", 300, 32, 32, {}),
        ("ideal", 300, 32, 32, {"r_bitline_ohm": 1.0, "r_wordline_ohm": 1.0}),
        ("TaOx/HfOx", 500, 32, 32, {"mapping": "reference", "calibration": "two-point"}),
        ("ideal", 100, 100, 70, {"tile_rows": 64, "tile_cols": 64, "weight_slices": 4,
                                 "bits_per_slice": 2}),
    ]
    for device, trials, m, n, settings in cases:
        dev = get_device(device)
        full = {**POPULATION_DEFAULTS, **settings}
        plan = plan_core((trials, m, n), dev, full)
        estimate = plan.program_bytes() + plan.read_bytes(1) + 8 * trials * (m * n + 4 * m + n)
        peak = traced_peak_bytes(lambda d=dev, t=trials, a=m, b=n, s=settings:
                     vmm_population(d, trials=t, rows=a, cols=b, **s))
        label = f"population {device} {trials}x{m}x{n} {settings or ''}"
        rows.append((label, estimate, peak))
    return rows


def binary_cores() -> list[tuple[str, int, int]]:
    rows = []
    for size, vectors, n, enc, adc in [((286, 64), 1000, 128, "T-I", None),
                                       ((286, 64), 1000, 64, "B-I", 4),
                                       ((1000, 300), 200, 256, "T-II", 4),
                                       ((2000, 2000), 50, 512, "B-II", None)]:
        r, c = size
        tiles = -(-r // n) * -(-c // (n // 2))
        estimate = binary_population_bytes(r, c, max(vectors, 200), tiles, n * n, n,
                                           get_encoding(enc).cycles)
        peak = traced_peak_bytes(lambda s=size, v=vectors, x=n, e=enc, b=adc: binary_vmm_population(
            "ReRAM-1", e, x, b, size=s, vectors=v, profile_vectors=200))
        rows.append((f"binary core {enc} {r}x{c} on {n}, {vectors} vectors", estimate, peak))
    return rows


def crossbar_matrices() -> list[tuple[str, int, int]]:
    rows = []
    for spec, tile, arrays, programming in [("poisson2d:64", (64, 64), 0, "open-loop"),
                                            ("poisson2d:64", (64, 64), 2, "write-verify"),
                                            ("random-spd:300", (128, 128), 0, "open-loop"),
                                            ("poisson2d:128", (256, 256), 1, "open-loop")]:
        a = problem(spec)
        settings = {"programming": programming}
        dev = get_device("EpiRAM")

        def build(a=a, tile=tile, arrays=arrays, settings=settings, dev=dev):
            return CrossbarMatrix(a, dev, tile=tile, residual_arrays=arrays, **settings)

        hw = build()
        estimate = programming_bytes(len(hw.blocks), tile, dev, settings, arrays, 256)
        rows.append((f"programming {spec} on {tile[0]}x{tile[1]}, {arrays} residual arrays",
                     estimate, traced_peak_bytes(build)))
        x = np.random.default_rng(0).normal(size=(10, a.shape[1]))
        estimate = product_bytes(hw.shape, 10, hw.n_tiles, tile, hw.arrays)
        peak = traced_peak_bytes(lambda h=hw, v=x: h @ v)
        rows.append((f"product of 10 vectors, {spec}", estimate, peak))
    return rows


class _CubicCell:
    """A model without a Numba twin (the NumPy paths): I = g (V + V^3 / (0.3 V)^2)."""

    def current(self, g_s, v_v):
        return np.asarray(g_s) * (np.asarray(v_v) + np.asarray(v_v) ** 3 / 0.09)

    def conductance(self, g_s, v_v):
        return np.asarray(g_s) * (1.0 + 3.0 * np.asarray(v_v) ** 2 / 0.09)


_RSS_SCRIPT = """
import sys, numpy as np
from meliso.circuit.iv import ACCESS_PRESETS, SinhCell
from meliso.circuit.nonlinear import solve_nonlinear
method, r, c, m, rb, rw = sys.argv[1], *map(int, sys.argv[2:5]), *map(float, sys.argv[5:7])
rng = np.random.default_rng(0)
g = 10 ** rng.uniform(-6, -4, (r, c))
v = rng.uniform(0.0, 0.3, (m, r))
kw = dict(method=method, cell_iv=SinhCell(0.25), access=ACCESS_PRESETS["nmos-65nm-l1"]["model"],
          r_bitline_ohm=rb, r_wordline_ohm=rw)
solve_nonlinear(g[:8, :8], v[:, :8], **kw)  # imports, caches, compilation


def status(field):
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) * 1024 for x in fh if x.startswith(field))


with open("/proc/self/clear_refs", "w") as fh:  # the peak (VmHWM) restarts from here
    fh.write("5")
base = status("VmRSS:")
solve_nonlinear(g, v, **kw)
print(status("VmHWM:") - base)
"""


def _rss_growth(method: str, r: int, c: int, m: int, kw: dict[str, float]) -> int:
    """Growth of the peak resident set (Linux VmHWM, reset after a warm-up solve) of a fresh
    process solving the case: what tracemalloc cannot see, SuperLU's fill-in."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, method, str(r), str(c), str(m),
                          str(kw.get("r_bitline_ohm", 0.0)), str(kw.get("r_wordline_ohm", 0.0))],
                         capture_output=True, text=True, check=True, timeout=600)
    return max(1, int(out.stdout.split()[-1]))


def nonlinear_solves() -> list[tuple[str, int, int]]:
    """solve_nonlinear on every path (its estimate: the kept node voltages, a chunk's working
    set and the Numba scratch, ``meliso.circuit.nonlinear_memory.solve_bytes``)."""
    rows_out = []
    nmos = ACCESS_PRESETS["nmos-65nm-l1"]["model"]
    both = dict(r_bitline_ohm=1.0, r_wordline_ohm=1.0)
    rng = np.random.default_rng(0)
    for (r, c, m), method, kw, cell in [
            ((64, 64, 20), "newton-cg", both, SinhCell(0.25)),
            ((128, 96, 10), "newton-cg", both, SinhCell(0.25)),
            ((64, 64, 20), "picard", both, SinhCell(0.25)),
            ((64, 64, 20), "lines", dict(r_bitline_ohm=1.0), SinhCell(0.25)),
            ((32, 48, 50), "picard", both, _CubicCell()),
            ((32, 48, 50), "lines", dict(r_wordline_ohm=1.0), _CubicCell()),
            ((64, 64, 20), "auto", {}, SinhCell(0.25)),
            ((300, 100, 50), "auto", {}, SinhCell(0.25)),
            ((32, 48, 50), "newton-direct", both, SinhCell(0.25)),
            ((128, 96, 4), "newton-direct", both, SinhCell(0.25)),
            ((256, 256, 1), "newton-direct", both, SinhCell(0.25)),
            ((64, 64, 10), "newton-gmres", both, SinhCell(0.25)),
            ((256, 256, 1), "newton-gmres", both, SinhCell(0.25))]:
        g = 10 ** rng.uniform(-6, -4, (r, c))
        v = rng.uniform(0.0, 0.3, (m, r))
        v[rng.random((m, r)) < 0.3] = 0.0
        twin = encode(cell, nmos) is not None
        path = path_of(method, kw.get("r_bitline_ohm", 0.0), kw.get("r_wordline_ohm", 0.0),
                       twin)
        estimate = int(solve_bytes(path, r, c, m)[0])
        if method in ("newton-direct", "newton-gmres"):  # SuperLU allocates in C
            peak = _rss_growth(method, r, c, m, kw)
        else:
            peak = traced_peak_bytes(lambda g=g, v=v, method=method, kw=kw, cell=cell:
                                     solve_nonlinear(g, v, method=method, cell_iv=cell,
                                                     access=nmos, topology="1t1r", **kw))
        rows_out.append((f"non-linear solve {method} {r}x{c} x {m} vectors "
                         f"{type(cell).__name__}+nmos {sorted(kw)}", estimate, peak))
    return rows_out


def main() -> None:
    print(f"{'what':<78} {'estimate MiB':>12} {'peak MiB':>9} {'ratio':>6}")
    worst = (np.inf, 0.0)
    for label, estimate, peak in [*populations(), *binary_cores(), *crossbar_matrices(),
                                   *nonlinear_solves()]:
        ratio = estimate / peak
        worst = (min(worst[0], ratio), max(worst[1], ratio))
        print(f"{label[:78]:<78} {estimate / 2**20:12.1f} {peak / 2**20:9.1f} {ratio:6.2f}")
    ok = worst[0] >= 1 and worst[1] <= 4
    print(f"ratio range {worst[0]:.2f} ... {worst[1]:.2f}: goal 1 ... 4 {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
