from .dense_projector import DenseProjector
from .ppm import PixelPropagationModule

__all__ = ['DenseProjector', 'PixelPropagationModule']
