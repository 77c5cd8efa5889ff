"""Image loading that never crashes a worker."""

from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile

from mmpixpro.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageOrSkip(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that returns None for unreadable files.

    (The parent asserts on an image that decodes to None, which kills a
    dataloader worker, and ``ignore_empty`` alone does not catch that.)

    Decoding is OpenCV's colour mode: grayscale, palette, RGBA (alpha
    dropped), CMYK JPEG and 16-bit images all arrive as 8-bit BGR. Zero-byte,
    truncated beyond decoding, or non-image files give None; the dataset
    (:class:`ImageFolder`) then counts the file, reports its path and draws
    another image. Images whose shorter side is below ``min_size`` are
    refused too (default 1: everything decodable is used; the random crop
    upsamples small images).
    """

    def __init__(self, min_size: int = 1, **kwargs) -> None:
        kwargs.setdefault('color_type', 'color')
        kwargs['ignore_empty'] = True
        super().__init__(**kwargs)
        self.min_size = min_size

    def transform(self, results: dict) -> Optional[dict]:
        try:
            results = super().transform(results)
        except (AssertionError, ValueError, OSError):
            return None
        if results is None:
            return None
        img = results['img']
        if img.ndim == 2:  # defensive: a decoder that ignores the colour flag
            img = np.repeat(img[..., None], 3, axis=2)
            results['img'] = img
        if min(img.shape[:2]) < self.min_size:
            return None
        return results
