from .image_folder import IMG_EXTENSIONS, ImageFolder
from .transforms import *  # noqa: F401,F403
from .voc_with_difficult import VOCDatasetWithDifficult

__all__ = ['IMG_EXTENSIONS', 'ImageFolder', 'VOCDatasetWithDifficult']
