"""MELISO's NeuroSim, all in one package: the read path of MELISO's modified NeuroSim V3.0,
bit for bit, registered with the core as the read model ``neurosim`` (``docs/neurosim.md``).

- :mod:`.device`: NeuroSim's write (initial state, pulse rounding, int-cast pulses, its NL
  table), in Numba so that ``exp``/``log`` are the C library's;
- :mod:`.inputs`: 10-bit bit-serial input levels, rounded NeuroSim's way and wrapped, not
  clipped;
- :mod:`.circuit`: the 15 kOhm access transistor and the position-dependent wire per cell;
- :mod:`.adc`: per-plane digitisation with 65535 counts and NeuroSim's summation order;
- :mod:`.arrays`: the components composed into programmed arrays;
- :mod:`.model`: the read model the core resolves from ``model = "neurosim"``;
- :mod:`.api`: ``program(A, device=...)``, for comparisons with NeuroSim.
"""

from .api import NeuroSimArray, program

__all__ = ["NeuroSimArray", "program"]
