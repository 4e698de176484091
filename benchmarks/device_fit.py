"""Recovery, coverage and speed of ``meliso device fit`` (meliso.devices.fitting).

1. Recovery: data simulated from each Table I preset (``--cycles`` (5) cycles of one device,
   edge-to-edge trains), and EpiRAM pulsed twice past its N, fitted back: truth, estimate and
   95 % interval of the NL label, sigma_C2C and N per branch, with where N came from.
2. Coverage: ``--reps`` (100) one-cycle data sets per device, the share of 95 % intervals of
   NL and sigma_C2C (both branches) that hold the truth, with its binomial standard error.
3. Speed: seconds per fit of the recovery data with the default 100 bootstrap resamples.

    python benchmarks/device_fit.py [--cycles 5] [--reps 100]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from meliso.devices import TABLE_I, get_device
from meliso.devices.fitting import fit_device, simulate_traces


def _recovery(cycles: int) -> None:
    print(f"## Recovery ({cycles} cycles, one device; [95 % interval])\n")
    print("| data | branch | NL true | NL fitted | sigma true | sigma fitted | N true | "
          "N fitted (source) | fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    cases = [(name, None) for name in TABLE_I] + [("EpiRAM", (128, 128))]
    for name, pulses in cases:
        dev = get_device(name)
        traces = simulate_traces(dev, np.random.default_rng(2026), cycles=cycles,
                                 pulses=pulses)
        t0 = time.perf_counter()
        fit = fit_device(traces, resamples=100)
        sec = time.perf_counter() - t0
        label = name if pulses is None else f"{name}, {pulses[0]}-pulse trains"
        for b, nl, n_true in ((fit.ltp, dev.nl_ltp, dev.levels_ltp),
                              (fit.ltd, dev.nl_ltd, dev.levels_ltd)):
            lo, hi = b.levels_ci
            n_text = (f"{b.levels:.0f}" if lo == hi else
                      f"{b.levels:.1f} [{lo:.1f}, {hi:.1f}]") + f" ({b.levels_source})"
            print(f"| {label} | {b.direction.upper()} | {nl:g} | {b.nl_label:.2f} "
                  f"[{b.nl_label_ci[0]:.2f}, {b.nl_label_ci[1]:.2f}] | {dev.sigma_c2c:g} | "
                  f"{b.sigma_c2c:.4f} [{b.sigma_c2c_ci[0]:.4f}, {b.sigma_c2c_ci[1]:.4f}] | "
                  f"{n_true} | {n_text} | {sec:.1f} |")


def _coverage(reps: int) -> None:
    print(f"\n## Coverage of the 95 % intervals ({reps} one-cycle data sets per device)\n")
    print("| device | NL intervals holding the truth | sigma_C2C intervals |")
    print("|---|---|---|")
    for name in TABLE_I:
        dev = get_device(name)
        nl_hits, s_hits = [], []
        for rep in range(reps):
            fit = fit_device(simulate_traces(dev, np.random.default_rng(10_000 + rep)),
                             resamples=0)
            for b, nl in ((fit.ltp, dev.nl_ltp), (fit.ltd, dev.nl_ltd)):
                nl_hits.append(b.nl_label_ci[0] <= nl <= b.nl_label_ci[1])
                s_hits.append(b.sigma_c2c_ci[0] <= dev.sigma_c2c <= b.sigma_c2c_ci[1])

        def share(h: list[bool]) -> str:
            p = float(np.mean(h))
            return f"{100 * p:.1f} % ± {100 * math.sqrt(p * (1 - p) / len(h)):.1f}"

        print(f"| {name} | {share(nl_hits)} | {share(s_hits)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()
    _recovery(args.cycles)
    _coverage(args.reps)


if __name__ == "__main__":
    main()
