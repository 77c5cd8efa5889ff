from .info_nce_loss import InfoNCELoss
from .pixcontrast_loss import PixContrastLoss
from .pixel_loss_base import (
    PixelLoss,
    float32_region,
    normalized_pixels,
    pairwise_cosine,
)
from .pixpro_loss import PixProLoss

__all__ = [
    'InfoNCELoss',
    'PixContrastLoss',
    'PixProLoss',
    'PixelLoss',
    'float32_region',
    'normalized_pixels',
    'pairwise_cosine',
]
