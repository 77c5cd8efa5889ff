from .lars import PixProLARS

__all__ = ['PixProLARS']
