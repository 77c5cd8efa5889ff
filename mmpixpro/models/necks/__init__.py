from .dense_projector import DenseProjector
from .fcos_head_tower import FCOSHeadTower
from .fcos_towers import FCOSTowers
from .ppm import PixelPropagationModule
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = [
    'DenseProjector',
    'FCOSHeadTower',
    'FCOSTowers',
    'PixelPropagationModule',
    'SimpleFeaturePyramid',
]
