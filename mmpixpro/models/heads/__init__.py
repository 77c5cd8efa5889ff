from .instance_head import InstanceHead
from .pixel_head import PixelHead, feature_spread

__all__ = ['InstanceHead', 'PixelHead', 'feature_spread']
