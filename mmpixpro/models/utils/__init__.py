from .pixel_pairs import (
    feature_cell_centres,
    pixel_pair_distance,
    pixel_pair_mask,
)

__all__ = ['feature_cell_centres', 'pixel_pair_distance', 'pixel_pair_mask']
