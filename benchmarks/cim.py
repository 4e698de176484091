"""Simulated-inference throughput of Cubero-Cascante et al. 2025's networks (images/second).

- LeNet-5 BNN (B-I) and TNN (T-I), trained briefly on mnist5k (the throughput does not depend
  on the accuracy), on 128 x 128 crossbars of ReRAM-2 with R_p = 1 Ohm bit-line segments and
  calibrated 4-bit ADCs;
- VGG-7 BNN and TNN (untrained: same arithmetic) on CIFAR-sized random input, same hardware;
- the same networks in software (PyTorch) for reference.

    python benchmarks/cim.py [--images 100] [--vgg-images 2]

``meliso reproduce cim`` takes about 17 minutes for the full mnist5k study on 2 cores (642
points of 250 test images; ``docs/studies.md``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from meliso.data import load_dataset
from meliso.nn import build_model, to_crossbar, train

HARDWARE = dict(technology="ReRAM-2", crossbar=128, adc_bits=4, r_bitline_ohm=1.0)


def _rate(fn, n: int) -> float:
    fn()  # warm-up (kernels compiled, caches filled)
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--vgg-images", type=int, default=2)
    args = parser.parse_args()
    data = load_dataset("mnist5k")
    x = torch.from_numpy(data.x_test[: args.images])
    rng = np.random.default_rng(0)
    x_cifar = torch.from_numpy(rng.random((args.vgg_images, 3, 32, 32), dtype=np.float32))
    print(f"{'network':<10} {'quant':<5} {'encoding':<8} {'software img/s':>15} "
          f"{'crossbar img/s':>15}")
    for quant, enc in (("BNN", "B-I"), ("TNN", "T-I")):
        net = train("lenet5", quant, data, epochs=1).model.eval()
        hw = to_crossbar(net, encoding=enc, **HARDWARE)
        hw.calibrate(data.x_train[:50])
        with torch.no_grad():
            soft = _rate(lambda net=net: net(x), len(x))
        print(f"{'LeNet-5':<10} {quant:<5} {enc:<8} {soft:>15.1f} "
              f"{_rate(lambda hw=hw: hw(x), len(x)):>15.1f}")
    for quant, enc in (("BNN", "B-I"), ("TNN", "T-I")):
        net = build_model("vgg7", quant, (3, 32, 32)).eval()
        hw = to_crossbar(net, encoding=enc, **HARDWARE)
        hw.calibrate(x_cifar)
        with torch.no_grad():
            soft = _rate(lambda net=net: net(x_cifar), len(x_cifar))
        print(f"{'VGG-7':<10} {quant:<5} {enc:<8} {soft:>15.1f} "
              f"{_rate(lambda hw=hw: hw(x_cifar), len(x_cifar)):>15.2f}")


if __name__ == "__main__":
    main()
