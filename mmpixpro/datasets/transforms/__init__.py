from .crop_with_coord import (
    RandomFlipWithCoord,
    RandomResizedCropWithCoord,
    normalised_box,
)
from .formatting import PackPixProInputs, image_to_tensor
from .loading import LoadImageOrSkip, decode_bgr
from .multi_view import MultiViewWithCoord
from .photometric import (
    FastColorJitter,
    FastGaussianBlur,
    FastRandomGrayscale,
    FastSolarize,
)

__all__ = [
    'FastColorJitter',
    'FastGaussianBlur',
    'FastRandomGrayscale',
    'FastSolarize',
    'LoadImageOrSkip',
    'MultiViewWithCoord',
    'PackPixProInputs',
    'RandomFlipWithCoord',
    'RandomResizedCropWithCoord',
    'decode_bgr',
    'image_to_tensor',
    'normalised_box',
]
