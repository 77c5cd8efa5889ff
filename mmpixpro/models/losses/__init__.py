from .pixcontrast_loss import PixContrastLoss
from .pixpro_loss import PixProLoss, pairwise_cosine

__all__ = ['PixContrastLoss', 'PixProLoss', 'pairwise_cosine']
