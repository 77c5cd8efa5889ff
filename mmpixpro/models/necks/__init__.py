from .dense_projector import DenseProjector
from .fcos_towers import FCOSTowers
from .ppm import PixelPropagationModule

__all__ = ['DenseProjector', 'FCOSTowers', 'PixelPropagationModule']
