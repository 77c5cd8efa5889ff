from .chunked import (
    chunked_pixel_loss,
    chunked_propagate,
    propagate_rows,
    rows_per_chunk,
)
from .ema import FusedCosineEMA
from .pixel_pairs import (
    feature_cell_centres,
    normalised_distance,
    pixel_pair_distance,
    pixel_pair_mask,
)

__all__ = [
    'FusedCosineEMA',
    'chunked_pixel_loss',
    'chunked_propagate',
    'feature_cell_centres',
    'normalised_distance',
    'pixel_pair_distance',
    'pixel_pair_mask',
    'propagate_rows',
    'rows_per_chunk',
]
