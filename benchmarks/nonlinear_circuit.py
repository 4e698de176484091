"""Seconds per batch of the non-linear crossbar solve (issue 26) against today's linear nodal solve.

Square arrays, a batch of 100 binary vectors (half the rows at V_read = 0.2 V, the rest at 0 V,
1T1R), random LRS/HRS cells of ReRAM-1 (10 kOhm / 100 kOhm, as small-signal conductances),
1 Ohm word- and bit-line segments, 2 cores. Rows:

- ``linear nodal``: ``solve_currents(..., method="nodal")`` with the small-signal conductances
  (today's solver; the ratio column is against it).
- ``sinh``: cells I = g V0 sinh(V/V0), V0 = 0.25 V, no transistor; ``sinh+nmos``: with the
  illustrative level-1 access NMOS (``nmos-65nm-l1``, gate at 1.2 V).
  Each by ``newton-cg`` (the default: Newton with a symmetric approximation of the Jacobian
  and the internal nodes as unknowns, the Numba Schur CG with a general right-hand side),
  ``picard`` (option (b): secant conductances,
  the existing Numba Schur CG over the batch), ``newton-gmres`` (option (a): Newton, GMRES
  preconditioned by the sparse LU of the linear nodal matrix; up to ``--gmres-max-size``),
  and, up to ``--direct-max-size``, the plain sparse-LU Newton
  (``newton-direct``) and ngspice (``--spice-max-size``): one vector timed, the batch
  extrapolated (marked ``*``); likewise any row whose first vector says the batch would exceed
  ``--budget`` seconds.

Goal (issue 26): the non-linear solve within 10x of the linear one at 256 x 256 (~2 s a batch).
With ``--one-kind``, bit-line segments only as well: ``lines`` against the linear solve of that
case (a closed-form ladder, so the ratio there is against an O(rows x cols) sweep).

    python benchmarks/nonlinear_circuit.py [--sizes 64 128 256 1024] [--batch 100]
        [--budget 60] [--direct-max-size 128] [--gmres-max-size 256] [--spice-max-size 128]
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from meliso.circuit import solve_currents
from meliso.circuit.iv import ACCESS_PRESETS, SinhCell
from meliso.circuit.nonlinear import solve_nonlinear
from meliso.circuit.spice import run_ngspice


def _time(fn_k, batch: int, budget: float, one_only: bool = False) -> tuple[float, bool, object]:
    """Seconds for the batch: fn_k(k) on k vectors after a one-vector warm-up; extrapolated
    from one vector when asked or when the batch would not fit the budget. Returns (seconds,
    extrapolated, last result)."""
    if not one_only:
        fn_k(1)  # warm-up (Numba compilation, caches)
    time.sleep(0.3)
    t0 = time.perf_counter()
    res = fn_k(1)
    one = time.perf_counter() - t0
    if one_only or one * batch > budget:
        t0 = time.perf_counter()
        res = fn_k(1)
        return (time.perf_counter() - t0) * batch, True, res
    time.sleep(0.3)
    t0 = time.perf_counter()
    res = fn_k(batch)
    return time.perf_counter() - t0, False, res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 1024])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--direct-max-size", type=int, default=128)
    parser.add_argument("--gmres-max-size", type=int, default=256,
                        help="largest size for newton-gmres (its sparse LU grows fast)")
    parser.add_argument("--spice-max-size", type=int, default=128)
    parser.add_argument("--no-nmos", action="store_true", help="skip the rows with the NMOS")
    parser.add_argument("--one-kind", action="store_true",
                        help="also bit-line segments only: 'lines' against today's linear "
                             "solve of that case (the closed-form ladder)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cell = SinhCell(0.25)
    nmos = ACCESS_PRESETS["nmos-65nm-l1"]["model"]
    kw = dict(r_bitline_ohm=1.0, r_wordline_ohm=1.0, topology="1t1r")
    kw1 = dict(r_bitline_ohm=1.0, topology="1t1r")
    print(f"{'size':>5} {'model':<10} {'method':<14} {'s / batch':>10} {'x linear':>9} "
          f"{'outer':>7} {'inner':>9} {'vs first':>10}")
    for n in args.sizes:
        g = np.where(rng.random((n, n)) < 0.5, 1 / 1e4, 1 / 1e5)
        v = np.where(rng.random((args.batch, n)) < 0.5, 0.2, 0.0)
        t_lin, ext, _ = _time(lambda k, g=g, v=v: solve_currents(g, v[:k], method="nodal", **kw),
                              args.batch, args.budget)
        print(f"{n:>5} {'linear':<10} {'nodal':<14} {t_lin:>9.3f}{'*' if ext else ' '} "
              f"{1.0:>9.1f}")
        models = [("sinh", None)] + ([] if args.no_nmos else [("sinh+nmos", nmos)])
        for label, acc in models:
            ref = None
            methods = ["newton-cg", "picard"] + (
                ["newton-gmres"] if n <= args.gmres_max_size else [])
            if n <= args.direct_max_size:
                methods.append("newton-direct")
            for meth in methods:
                def run(k, g=g, v=v, acc=acc, meth=meth):  # type: ignore[no-untyped-def]
                    return solve_nonlinear(g, v[:k], cell_iv=cell, access=acc, method=meth,
                                           **kw)
                t, ext, sol = _time(run, args.batch, args.budget,
                                    one_only=meth == "newton-direct")
                outer = f"{sol.newton_iterations.min()}-{sol.newton_iterations.max()}"
                inner = f"{sol.inner_iterations.min()}-{sol.inner_iterations.max()}"
                if ref is None:
                    ref = sol.currents_a
                    diff = ""
                else:
                    k = sol.currents_a.shape[0]
                    diff = f"{np.abs(sol.currents_a / ref[:k] - 1).max():.1e}"
                print(f"{n:>5} {label:<10} {meth:<14} {t:>9.3f}{'*' if ext else ' '} "
                      f"{t / t_lin:>9.1f} {outer:>7} {inner:>9} {diff:>10}", flush=True)
            if shutil.which("ngspice") and n <= args.spice_max_size:
                t, _, spice = _time(
                    lambda k, g=g, v=v, acc=acc: run_ngspice(g, v[:k], cell_iv=cell, access=acc,
                                                             **kw),
                    args.batch, args.budget, one_only=True)
                assert ref is not None
                err = np.abs(np.asarray(spice) / ref[:1] - 1).max()
                print(f"{n:>5} {label:<10} {'ngspice':<14} {t:>9.3f}* {t / t_lin:>9.1f} "
                      f"{'':>7} {'':>9} {err:>10.1e}", flush=True)
        if args.one_kind:
            t_one, ext, _ = _time(lambda k, g=g, v=v: solve_currents(g, v[:k], **kw1),
                                  args.batch, args.budget)
            print(f"{n:>5} {'linear':<10} {'bit lines':<14} {t_one:>9.3f}"
                  f"{'*' if ext else ' '} {1.0:>9.1f}")
            for label, acc in [("sinh", None)] + ([] if args.no_nmos else
                                                   [("sinh+nmos", nmos)]):
                t, ext, sol = _time(lambda k, g=g, v=v, acc=acc: solve_nonlinear(
                    g, v[:k], cell_iv=cell, access=acc, method="lines", **kw1),
                    args.batch, args.budget)
                outer = f"{sol.newton_iterations.min()}-{sol.newton_iterations.max()}"
                print(f"{n:>5} {label:<10} {'lines':<14} {t:>9.3f}{'*' if ext else ' '} "
                      f"{t / t_one:>9.1f} {outer:>7}", flush=True)
    print("* extrapolated from one vector (x batch); 'vs first': max relative difference of "
          "the currents from the model's first (newton-cg) row (ngspice: of vector 0)")


if __name__ == "__main__":
    main()
