"""Matrix -> target conductances (tiling, differential/reference pairs); inputs -> voltages."""

from .encodings import ENCODINGS, Encoding, differential_states, get_encoding
from .inputs import bit_planes, input_scale, quantize_inputs
from .tiling import tile_grid, tile_inputs, tile_matrix, tile_scale, untile_outputs
from .weights import (
    MAPPINGS,
    NO_SLICING,
    Slicing,
    WeightMapping,
    check_slicing,
    half_range,
    physical_columns,
    reference_level,
    target_fractions,
    weight_units,
)

__all__ = [
    "ENCODINGS",
    "MAPPINGS",
    "NO_SLICING",
    "Encoding",
    "Slicing",
    "WeightMapping",
    "bit_planes",
    "check_slicing",
    "differential_states",
    "get_encoding",
    "half_range",
    "input_scale",
    "physical_columns",
    "quantize_inputs",
    "reference_level",
    "target_fractions",
    "tile_grid",
    "tile_inputs",
    "tile_matrix",
    "tile_scale",
    "untile_outputs",
    "weight_units",
]
