from .pixel_head import PixelHead

__all__ = ['PixelHead']
