"""On-chip (in-situ) learning: networks trained by write pulses on the devices themselves.

MLP_NeuroSim V3.0's benchmark (a 400-100-10 sigmoid MLP on MNIST, batch 1) with two models,
as for the VMM study (``docs/learning.md``):

- ``neurosim``: MLP_NeuroSim's training path (one device per weight against a mid-current
  reference, its 8-bit partial sums, its pulse rounding and NL table);
- ``physics``: meliso's differential pairs and read path, its exact NL curves;
- ``software``: floating-point SGD on the same network (MLP_NeuroSim's algorithm path).

Everything here is NumPy and Numba; PyTorch is not needed.
"""

from .inputs import Patches, binarised_patches, patches
from .settings import InsituSettings
from .trainer import EpochCounts, InsituResult, train_insitu

__all__ = ["EpochCounts", "InsituResult", "InsituSettings", "Patches", "binarised_patches",
           "patches", "train_insitu"]
