from .crop_with_coord import (
    RandomFlipWithCoord,
    RandomResizedCropWithCoord,
    normalised_box,
)
from .formatting import PackPixProInputs, image_to_tensor
from .loading import LoadImageOrSkip
from .multi_view import MultiViewWithCoord

__all__ = [
    'LoadImageOrSkip',
    'MultiViewWithCoord',
    'PackPixProInputs',
    'RandomFlipWithCoord',
    'RandomResizedCropWithCoord',
    'image_to_tensor',
    'normalised_box',
]
