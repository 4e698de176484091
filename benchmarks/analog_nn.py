"""Throughput of float networks on analog crossbars (meliso.nn.to_analog), images per second.

For the MLP and LeNet-5 of ``meliso/nn/float_nets.py`` (untrained: the arithmetic does not
depend on the weights' values) on 28x28 inputs, EpiRAM, 32x32 tiles:

- software (PyTorch, float32) for reference;
- the linear read (ideal wires, analog inputs, ideal ADC: x W_eff in one product);
- the same read tile by tile (``PhysicsArrays._read_tiles``, what the linear read replaces);
- 8-bit inputs and calibrated 6-bit ADCs (tile by tile, bit plane by bit plane);
- programming one chip (open loop, write-and-verify).

Ratios are against the linear read, all measured in one run.

    python benchmarks/analog_nn.py [--images 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from meliso.nn import build_float_model, predict, to_analog


def _seconds(fn: Callable[[], object]) -> float:
    fn()  # warm-up: kernels compiled, W_eff computed
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = np.random.default_rng(0).random((args.images, 1, 28, 28), dtype=np.float32)
    print(f"{'network':8} {'case':34} {'images/s':>10} {'vs linear':>10}")
    for net in ("mlp", "lenet5"):
        model = build_float_model(net, (1, 28, 28)).eval()
        linear = to_analog(model, "EpiRAM")
        tiled = to_analog(model, "EpiRAM")
        for layer in tiled.analog_layers():
            for core in layer.cores:
                core.arrays.__class__ = type("Tiled", (type(core.arrays),),
                                             {"linear": property(lambda self: False)})
        adc = to_analog(model, "EpiRAM", input_bits=8, adc_bits=6)
        adc.calibrate(torch.from_numpy(x[:50]))
        cases = {"software (PyTorch)": lambda: predict(model, x),
                 "analog, linear read": lambda: predict(linear, x),
                 "analog, tile by tile": lambda: predict(tiled, x),
                 "analog, 8-bit inputs, 6-bit ADCs": lambda: predict(adc, x)}
        seconds = {k: _seconds(f) for k, f in cases.items()}
        for case, sec in seconds.items():
            print(f"{net:8} {case:34} {args.images / sec:10.0f} "
                  f"{seconds['analog, linear read'] / sec:10.2f}")
        for programming in ("open-loop", "write-verify"):
            t0 = time.perf_counter()
            to_analog(model, "EpiRAM", programming=programming)
            print(f"{net:8} {'programming, ' + programming:34} "
                  f"{time.perf_counter() - t0:9.2f}s")


if __name__ == "__main__":
    main()
