"""Pictures of the data a PixPro model is trained on, and of its features."""

from .browse import browse_dataset, run_pipeline
from .dense_features import draw_dense_features
from .feature_maps import (
    default_points,
    feature_cell,
    pca_panels,
    pca_rgb,
    similarity_map,
    similarity_panels,
)
from .figure import save_grid
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
    'default_points',
    'draw_dense_features',
    'draw_view_pairs',
    'feature_cell',
    'level_grid',
    'pca_panels',
    'pca_rgb',
    'positive_pairs',
    'run_pipeline',
    'save_grid',
    'similarity_map',
    'similarity_panels',
]
