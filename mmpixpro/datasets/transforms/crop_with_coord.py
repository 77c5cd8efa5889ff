"""Random resized crop and flip that record the view's box in the image."""

import math
from typing import List, Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import RandomFlip
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms import RandomResizedCrop

from mmpixpro.registry import TRANSFORMS


def normalised_box(
    left: int, top: int, width: int, height: int, img_w: int, img_h: int
) -> np.ndarray:
    """``[x1/(W-1), y1/(H-1), (x1+w-1)/(W-1), (y1+h-1)/(H-1)]``, float32."""
    norm_w, norm_h = max(img_w - 1, 1), max(img_h - 1, 1)
    return np.array(
        [
            left / norm_w,
            top / norm_h,
            (left + width - 1) / norm_w,
            (top + height - 1) / norm_h,
        ],
        dtype=np.float32,
    )


#: Shrink factor above which an axis is low-passed before a bilinear resize.
ANTIALIAS_FROM = 1.5


def antialias_blur(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Low-pass ``img`` before it is shrunk bilinearly to ``out_w x out_h``.

    PIL's bilinear resize (what torchvision's recipe, and the authors'
    release, run on crops) filters with a triangle of half-width ``s`` along
    an axis it shrinks by a factor ``s``; OpenCV's bilinear resize does not
    filter, and aliases. Along each axis shrunk by more than 1.5x, a Gaussian
    of the triangle's standard deviation ``sigma = s / sqrt(6)`` (kernel cut
    at one sigma, rounded up) is applied first. Measured on the bundled
    photos: mean distance to PIL's pixels 0.59 grey levels, against 1.73 for
    plain bilinear and 0.80 for ``INTER_AREA`` (docs/en/notes/performance.md).
    """
    h, w = img.shape[:2]
    sx, sy = w / out_w, h / out_h
    if sx <= ANTIALIAS_FROM and sy <= ANTIALIAS_FROM:
        return img

    def kernel(s: float):  # (size, sigma) along one axis; size 1: untouched
        if s <= ANTIALIAS_FROM:
            return 1, 0.0
        sigma = s / math.sqrt(6)
        return 2 * math.ceil(sigma) + 1, sigma

    (kw, sigma_x), (kh, sigma_y) = kernel(sx), kernel(sy)
    return cv2.GaussianBlur(img, (kw, kh), sigmaX=sigma_x, sigmaY=sigma_y)


@TRANSFORMS.register_module()
class RandomResizedCropWithCoord(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` that also records the crop box.

    (The parent samples the crop exactly as wanted but discards its box.)

    Added key ``coord``: the box ``[x1, y1, x2, y2]`` of the crop in the
    original image, normalised per axis by ``(W - 1, H - 1)``, float32 [4].
    Arguments are those of ``mmpretrain.RandomResizedCrop`` (``scale`` is the
    output size; ``crop_ratio_range`` defaults to (0.08, 1.0),
    ``aspect_ratio_range`` to (3/4, 4/3)), and:

    Args:
        antialias (bool): With the cv2 backend and bilinear interpolation,
            low-pass a crop before shrinking it (:func:`antialias_blur`),
            close to PIL's antialiased bilinear resize. Defaults to True.
    """

    def __init__(self, *args, antialias: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.antialias = antialias

    def transform(self, results: dict) -> dict:
        img = results['img']
        img_h, img_w = img.shape[:2]
        top, left, crop_h, crop_w = self.rand_crop_params(img)
        crop = img[top : top + crop_h, left : left + crop_w]
        out_h, out_w = self.scale
        if (
            self.antialias
            and self.backend == 'cv2'
            and self.interpolation == 'bilinear'
        ):
            crop = antialias_blur(crop, out_w, out_h)
        results['img'] = mmcv.imresize(
            crop,
            (out_w, out_h),
            interpolation=self.interpolation,
            backend=self.backend,
        )
        results['img_shape'] = results['img'].shape[:2]
        results['coord'] = normalised_box(left, top, crop_w, crop_h, img_w, img_h)
        return results


@TRANSFORMS.register_module()
class RandomFlipWithCoord(RandomFlip):
    """mmcv's horizontal ``RandomFlip`` that also flips the recorded box.

    A flipped view's box runs right to left: ``x1`` and ``x2`` of ``coord``
    are swapped, so that feature column ``c`` of the flipped view maps back
    to the right place in the original image.

    Args:
        prob (float): Flip probability. Defaults to 0.5.
    """

    # mmcv's cache_randomness appends the method's name to the class's own
    # list, else to the inherited one: a list of its own leaves RandomFlip's.
    _methods_with_randomness: List[str] = []

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal'):
        if direction != 'horizontal':
            raise ValueError(
                'RandomFlipWithCoord only supports '
                f"direction='horizontal', got {direction!r}"
            )
        super().__init__(prob=prob, direction=direction)

    @cache_randomness
    def _choose_direction(self) -> Optional[str]:
        # one uniform draw: the parent's np.random.choice costs ~20 us a call
        return 'horizontal' if np.random.rand() < self.prob else None

    def _flip(self, results: dict) -> None:
        img = results['img']
        super()._flip(results)  # the image (as a strided view), boxes, masks
        # A contiguous copy: OpenCV copies strided views slowly, at every call.
        results['img'] = cv2.flip(img, 1)
        if 'coord' in results:
            coord = results['coord'].copy()
            coord[[0, 2]] = coord[[2, 0]]
            results['coord'] = coord
