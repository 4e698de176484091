"""Settings of in-situ training (MLP_NeuroSim V3.0's protocol by default, ``docs/learning.md``).

The defaults are MLP_NeuroSim V3.0's (``Param.cpp``): a 400-100-10 sigmoid network, learning
rates alpha1 = 0.4 (input to hidden) and alpha2 = 0.2 (hidden to output), one image per update,
8000 random training images per epoch (drawn with replacement), 125 epochs, 1-bit inputs and
hidden activations in the forward pass (threshold 0.5), 8-bit partial sums, weights in [-1, 1]
initialised to one of -1, -2/3, ..., 1 at random, and write operations on batches of
ceil(columns / 16) cells.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: MLP_NeuroSim's array wire (100 nm wide, aspect ratio 2.3, resistivity 2.73e-8 ohm m), one
#: 2F = 200 nm segment per cell: rho L / (w^2 AR) (``Array.h``).
NEUROSIM_WIRE_SEGMENT_OHM = 2.73e-8 * 200e-9 / (100e-9 * 100e-9 * 2.3)
#: Cells per write batch = ceil(columns / WRITE_COLUMNS_MUXED) (``numWriteColMuxed``).
WRITE_COLUMNS_MUXED = 16
Model = Literal["neurosim", "physics", "software"]


class InsituSettings(BaseModel):
    """How a network is trained on devices. Frozen; validated on creation."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    model: Model = Field("physics", description="neurosim (MLP_NeuroSim's path), physics "
                         "(differential pairs, meliso's read path) or software (float SGD)")
    epochs: int = Field(125, ge=1, le=10_000, description="training epochs")
    images_per_epoch: int = Field(8000, ge=1, le=1_000_000,
                                  description="training images per epoch, drawn at random")
    n_hidden: int = Field(100, ge=1, le=1024, description="hidden neurons")
    alpha1: float = Field(0.4, gt=0, le=100, description="learning rate, input to hidden")
    alpha2: float = Field(0.2, gt=0, le=100, description="learning rate, hidden to output")
    adc_bits: int | None = Field(8, ge=1, le=16, description="bits of each column's partial "
                                 "sum (None: ideal; the neurosim model needs a number)")
    hidden_binary: bool | None = Field(None, description="1-bit hidden activations in the "
                                       "forward pass (default: yes on hardware, no in "
                                       "software, as MLP_NeuroSim)")
    hidden_threshold: float = Field(0.5, gt=0, lt=1, description="threshold of 1-bit hidden "
                                    "activations")
    wire_segment_ohm: float = Field(NEUROSIM_WIRE_SEGMENT_OHM, ge=0, le=1e3,
                                    description="wire resistance per cell (neurosim model), "
                                    "ohm")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed (weights, images, "
                      "noise)")
    test_images: int | None = Field(None, ge=1, le=1_000_000,
                                    description="test images per evaluation (None: all)")
    eval_every: int = Field(1, ge=1, le=10_000, description="epochs between evaluations")

    @model_validator(mode="after")
    def _consistent(self) -> InsituSettings:
        if self.model == "neurosim" and self.adc_bits is None:
            raise ValueError("adc_bits = None: the neurosim model digitises every partial sum "
                             "(MLP_NeuroSim's numBitPartialSum); allowed 1 <= adc_bits <= 16")
        if self.model == "physics" and self.adc_bits == 1:
            raise ValueError("adc_bits = 1: the physics model's signed ADC needs a sign bit and "
                             "at least one magnitude bit; allowed 2 <= adc_bits <= 16 or None")
        if self.model == "neurosim" and self.hidden_binary is False:
            raise ValueError("hidden_binary = False: the neurosim model reads its second layer "
                             "with 1-bit inputs (MLP_NeuroSim's da1)")
        return self

    @property
    def binary_hidden(self) -> bool:
        """Whether the second layer reads 1-bit hidden activations."""
        if self.hidden_binary is None:
            return self.model != "software"
        return self.hidden_binary

    def write_batch(self, columns: int) -> int:
        """Cells written together in one operation of a row of ``columns`` cells."""
        return max(1, math.ceil(columns / WRITE_COLUMNS_MUXED))
