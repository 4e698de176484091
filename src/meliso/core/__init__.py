"""Programmed matrices: mapping + devices + circuit + decode composed into cores."""

from .analog import AnalogCore, quantisation_bound
from .binary import BinaryCore, CoreProfile, CoreStats
from .config import CoreConfig
from .decode import TwoPointCalibration

__all__ = ["AnalogCore", "BinaryCore", "CoreConfig", "CoreProfile", "CoreStats",
           "TwoPointCalibration", "quantisation_bound"]
