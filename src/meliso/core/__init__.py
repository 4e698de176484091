"""Programmed matrices: mapping + devices + circuit + decode composed into cores."""

from .analog import AnalogCore, quantisation_bound
from .config import CoreConfig
from .decode import TwoPointCalibration

__all__ = ["AnalogCore", "CoreConfig", "TwoPointCalibration", "quantisation_bound"]
