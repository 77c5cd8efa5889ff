"""Pictures of the data a PixPro model is trained on."""

from .browse import browse_dataset, run_pipeline
from .view_pairs import (
    LEVEL_STRIDES,
    PairPicture,
    cell_centres,
    draw_view_pairs,
    level_grid,
    positive_pairs,
)

__all__ = [
    'LEVEL_STRIDES',
    'PairPicture',
    'browse_dataset',
    'cell_centres',
    'draw_view_pairs',
    'level_grid',
    'positive_pairs',
    'run_pipeline',
]
