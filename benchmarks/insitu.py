"""Speed of on-chip learning (meliso.learning): MLP_NeuroSim's whole benchmark, and the Numba
kernel against its NumPy twin.

1. The benchmark of issue 24: the four Table I devices x both read models, each trained for
   ``--epochs`` (125) x ``--images`` (8000) single-image updates on mnist5k, ``--workers`` (2)
   processes at a time. Per run: final accuracy, seconds, training images per second, and the
   ratio to MLP_NeuroSim's "about 1 hour" per device run (its manual, section 8; a 16-thread
   CPU). Then the wall time of the whole benchmark.
2. One step of the kernel against one step of its NumPy twin (same state, same image), both
   models: steps per second and the ratio, measured in this run.

    python benchmarks/insitu.py [--epochs 125] [--images 8000] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from meliso.devices import TABLE_I, get_device
from meliso.learning import _kernels as k
from meliso.learning import patches, train_insitu, twin
from meliso.learning.settings import NEUROSIM_WIRE_SEGMENT_OHM
from meliso.learning.state import initial_weights, layer_state, read_currents

NEUROSIM_SECONDS_PER_RUN = 3600.0


def _run(job: tuple[str, str, int, int]) -> dict[str, Any]:
    device, model, epochs, images = job
    res = train_insitu(device, model=model, epochs=epochs, images_per_epoch=images,
                       eval_every=epochs)
    return {"device": device, "model": model, "accuracy": 100 * res.final_accuracy,
            "seconds": res.seconds, "images_per_s": res.images_per_second}


def _steps_per_second(model: str, steps: int = 200) -> tuple[float, float]:
    dev = get_device("Ag:a-Si")
    rng = np.random.default_rng(0)
    data = patches("mnist5k")
    w1, w2 = initial_weights((100, 400), rng), initial_weights((10, 100), rng)
    l1 = layer_state(model, dev, w1, rng, NEUROSIM_WIRE_SEGMENT_OHM)
    l2 = layer_state(model, dev, w2, rng, NEUROSIM_WIRE_SEGMENT_OHM)
    i_max, i_min = read_currents(dev)
    sigma = dev.sigma_c2c * dev.g_range_s
    normals = rng.standard_normal(1 << 22)
    order = rng.integers(0, len(data.y_train), steps)
    mode = k.NEUROSIM if model == "neurosim" else k.PHYSICS
    args = (dev.levels_ltp, dev.levels_ltd, dev.g_min_s, dev.g_max_s, sigma, dev.v_read_v,
            i_max, i_min, np.zeros(4), 0.4, 0.2, 8, True, 0.5, 7, 1)
    counters = np.zeros((2, k.N_COUNTERS))
    k.train_steps(mode, data.x_train, data.y_train, order[:2], 0, l1.g, l1.sig, l1.w,
                  l1.constants(), l2.g, l2.sig, l2.w, l2.constants(), *args, normals,
                  counters)  # compiled and warm
    t0 = time.perf_counter()
    k.train_steps(mode, data.x_train, data.y_train, order, 0, l1.g, l1.sig, l1.w,
                  l1.constants(), l2.g, l2.sig, l2.w, l2.constants(), *args, normals, counters)
    kernel = steps / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    pos = 0
    for idx in order[: steps // 10]:
        pos = twin.train_step(model, data.x_train[idx].astype(float), int(data.y_train[idx]),
                              l1, l2, levels_ltp=dev.levels_ltp, levels_ltd=dev.levels_ltd,
                              g_min=dev.g_min_s, g_max=dev.g_max_s, sigma_s=sigma,
                              v_read=dev.v_read_v, i_max=i_max, i_min=i_min, alpha1=0.4,
                              alpha2=0.2, adc_bits=8, hidden_binary=True, threshold=0.5,
                              normals=normals, pos=pos)
    numpy_twin = (steps // 10) / (time.perf_counter() - t0)
    return kernel, numpy_twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=125)
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(d, m, args.epochs, args.images) for m in ("neurosim", "physics") for d in TABLE_I]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_run, jobs))
    wall = time.perf_counter() - t0
    print(f"{'model':9} {'device':10} {'accuracy %':>10} {'seconds':>8} {'images/s':>9} "
          f"{'vs NeuroSim 1 h':>15}")
    for r in results:
        print(f"{r['model']:9} {r['device']:10} {r['accuracy']:10.1f} {r['seconds']:8.1f} "
              f"{r['images_per_s']:9.0f} {NEUROSIM_SECONDS_PER_RUN / r['seconds']:14.0f}x")
    print(f"whole benchmark: {len(jobs)} runs x {args.epochs} epochs x {args.images} images "
          f"in {wall:.0f} s wall on {args.workers} workers")
    print(f"\n{'model':9} {'kernel steps/s':>15} {'numpy twin steps/s':>19} {'ratio':>7}")
    for model in ("neurosim", "physics"):
        kern, tw = _steps_per_second(model)
        print(f"{model:9} {kern:15.0f} {tw:19.0f} {kern / tw:6.0f}x")


if __name__ == "__main__":
    main()
