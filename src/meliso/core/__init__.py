"""Programmed matrices: mapping + devices + circuit + decode composed into cores."""

from .analog import AnalogCore, quantisation_bound
from .binary import BinaryCore, BinaryCoreProfile, BinaryCoreStats
from .config import AnalogCoreConfig
from .decode import TwoPointCalibration

__all__ = [
           "AnalogCore",
           "AnalogCoreConfig",
           "BinaryCore",
           "BinaryCoreProfile",
           "BinaryCoreStats",
           "TwoPointCalibration",
           "quantisation_bound",
]
