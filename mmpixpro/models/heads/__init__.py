from .pixel_head import PixelHead, feature_spread

__all__ = ['PixelHead', 'feature_spread']
