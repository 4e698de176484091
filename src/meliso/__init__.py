"""meliso: analog vector-matrix multiplication on simulated resistive crossbars.

Layers (one-way): mapping -> devices -> circuit -> periphery -> decode, composed in
:mod:`meliso.core`; workloads on top; :mod:`meliso.analysis` beside.
"""

__version__ = "0.1.0"

from ._validation import ConvergenceError, ParameterError

__all__ = ["ConvergenceError", "ParameterError", "__version__"]
