from .crop_with_coord import (
    RandomFlipWithCoord,
    RandomResizedCropWithCoord,
    normalised_box,
)
from .formatting import PackPixProInputs, image_to_tensor
from .multi_view import MultiViewWithCoord

__all__ = [
    'MultiViewWithCoord',
    'PackPixProInputs',
    'RandomFlipWithCoord',
    'RandomResizedCropWithCoord',
    'image_to_tensor',
    'normalised_box',
]
