from .chunked import map_row_chunks, pair_rule_loss, rows_per_chunk
from .ema import FusedCosineEMA
from .pixel_pairs import (
    feature_cell_centres,
    normalised_distance,
    pixel_pair_mask,
    positive_pairs,
)

__all__ = [
    'FusedCosineEMA',
    'feature_cell_centres',
    'map_row_chunks',
    'normalised_distance',
    'pair_rule_loss',
    'pixel_pair_mask',
    'positive_pairs',
    'rows_per_chunk',
]
