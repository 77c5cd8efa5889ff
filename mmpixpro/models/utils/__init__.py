from .chunked import map_row_chunks, rows_per_chunk
from .ema import FusedCosineEMA
from .pixel_pairs import (
    MaskPairs,
    PixelPairs,
    feature_cell_centres,
    normalised_distance,
    pixel_pair_mask,
    positive_pairs,
)

__all__ = [
    'FusedCosineEMA',
    'MaskPairs',
    'PixelPairs',
    'feature_cell_centres',
    'map_row_chunks',
    'normalised_distance',
    'pixel_pair_mask',
    'positive_pairs',
    'rows_per_chunk',
]
