from .image_folder import IMG_EXTENSIONS, ImageFolder
from .transforms import *  # noqa: F401,F403

__all__ = ['IMG_EXTENSIONS', 'ImageFolder']
