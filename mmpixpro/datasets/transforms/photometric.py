"""The BYOL colour recipe on uint8 BGR images, with OpenCV and lookup tables.

The maps are torchvision's (as used by the PixPro recipe), for an image
``x`` in [0, 255] and ``gray(x) = 0.299 R + 0.587 G + 0.114 B``:

- brightness ``b``:  ``x -> clip(b x)``
- contrast ``c``:    ``x -> clip(c x + (1 - c) mean(gray(x)))``
- saturation ``s``:  ``x -> clip(s x + (1 - s) gray(x))`` (per pixel)
- hue ``h``:         rotate the HSV hue by ``h`` turns
- grayscale:         ``x -> gray(x)`` in all three channels
- blur ``sigma``:    separable Gaussian, taps out to ``3 sigma``
- solarize ``t``:    ``x -> 255 - x`` where ``x >= t``

Each works on the uint8 image with one to four OpenCV calls (saturating,
rounding), where mmpretrain's equivalents pass through float arrays or PIL
copies; results agree with torchvision's to rounding (tested).
``.dev_scripts/speed.py`` times the whole two-view pipeline.
"""

import math
from typing import Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmpixpro.registry import TRANSFORMS

LEVELS = np.arange(256, dtype=np.float32)
LUMA_BGR = np.array([0.114, 0.587, 0.299])
# HUE_TABLES[k]: OpenCV hue h in [0, 180) -> (h + k) mod 180
HUE_TABLES = [
    np.where(LEVELS < 180, (LEVELS + k) % 180, LEVELS).astype(np.uint8)
    for k in range(180)
]


def gray(img: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of a BGR image, ``[H, W]`` uint8."""
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    # saturate(round(factor * x)); factor >= 0, so the absolute value is moot
    return cv2.convertScaleAbs(img, alpha=factor)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    mean = cv2.mean(gray(img))[0]
    # saturate(round(factor * x + (1 - factor) * mean)); the second term is 0
    return cv2.addWeighted(img, factor, img, 0.0, (1.0 - factor) * mean)


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    # one 3x3 colour matrix: factor * I + (1 - factor) * (rows of luma weights)
    mix = (1.0 - factor) * np.tile(LUMA_BGR, (3, 1)) + factor * np.eye(3)
    return cv2.transform(img, mix.astype(np.float32))


def adjust_hue(img: np.ndarray, turns: float) -> np.ndarray:
    """Hue rotated by ``turns`` of the circle, in OpenCV's 180 two-degree steps.

    OpenCV converts 180-step HSV back faster than its 256-step (PIL's)
    form, at a small cost in precision against torchvision's float hue
    (both measured in docs/en/notes/performance.md, "Data").
    """
    shift = round(turns * 180) % 180
    if shift == 0:
        return img
    hue, sat, val = cv2.split(cv2.cvtColor(img, cv2.COLOR_BGR2HSV))
    hue = cv2.LUT(hue, HUE_TABLES[shift])
    return cv2.cvtColor(cv2.merge((hue, sat, val)), cv2.COLOR_HSV2BGR)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(3 * sigma))
    kernel = cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_32F)
    return cv2.sepFilter2D(img, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)


class _RandomImageTransform(BaseTransform):
    """Applies ``apply(img)`` to ``results['img']`` with probability ``prob``."""

    def __init__(self, prob: float = 1.0) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if self.prob < 1.0 and np.random.rand() >= self.prob:
            return results
        results['img'] = self.apply(results['img'])
        return results

    def apply(self, img: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@TRANSFORMS.register_module()
class FastColorJitter(_RandomImageTransform):
    """torchvision's ``ColorJitter`` on uint8 BGR, applied with ``prob``.

    Factors are drawn uniformly from ``[max(0, 1 - b), 1 + b]`` (brightness,
    contrast, saturation) and ``[-h, h]`` (hue, in turns), and the four maps
    run in a random order; a zero strength skips its map.
    """

    def __init__(
        self,
        brightness: float = 0.0,
        contrast: float = 0.0,
        saturation: float = 0.0,
        hue: float = 0.0,
        prob: float = 1.0,
    ) -> None:
        super().__init__(prob)
        for name, value in dict(
            brightness=brightness, contrast=contrast, saturation=saturation
        ).items():
            if value < 0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        if not 0.0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        self.strengths = (brightness, contrast, saturation, hue)
        self.maps = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        self.ranges = [(max(0.0, 1.0 - v), 1.0 + v) for v in self.strengths[:3]]
        self.ranges.append((-hue, hue))

    def apply(self, img: np.ndarray) -> np.ndarray:
        for index in np.random.permutation(4):
            if self.strengths[index] != 0:
                factor = np.random.uniform(*self.ranges[index])
                img = self.maps[index](img, factor)
        return img

    def __repr__(self) -> str:
        b, c, s, h = self.strengths
        return (
            f'{self.__class__.__name__}(brightness={b}, contrast={c}, '
            f'saturation={s}, hue={h}, prob={self.prob})'
        )


@TRANSFORMS.register_module()
class FastRandomGrayscale(_RandomImageTransform):
    """Luma in all three channels, with probability ``prob``."""

    def apply(self, img: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(gray(img), cv2.COLOR_GRAY2BGR)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class FastGaussianBlur(_RandomImageTransform):
    """Gaussian blur with ``sigma ~ U(sigma_range)``, with probability ``prob``."""

    def __init__(
        self, sigma_range: Tuple[float, float] = (0.1, 2.0), prob: float = 1.0
    ) -> None:
        super().__init__(prob)
        low, high = sigma_range
        if not 0 < low <= high:
            raise ValueError(
                f'sigma_range must satisfy 0 < low <= high, got {sigma_range}'
            )
        self.sigma_range = (float(low), float(high))

    def apply(self, img: np.ndarray) -> np.ndarray:
        return gaussian_blur(img, np.random.uniform(*self.sigma_range))

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(sigma_range={self.sigma_range}, '
            f'prob={self.prob})'
        )


@TRANSFORMS.register_module()
class FastSolarize(_RandomImageTransform):
    """Invert the levels at or above ``threshold``, with probability ``prob``."""

    def __init__(self, threshold: int = 128, prob: float = 1.0) -> None:
        super().__init__(prob)
        self.threshold = int(threshold)
        levels = np.arange(256)
        self.table = np.where(levels < threshold, levels, 255 - levels).astype(np.uint8)

    def apply(self, img: np.ndarray) -> np.ndarray:
        return cv2.LUT(img, self.table)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(threshold={self.threshold}, prob={self.prob})'
        )
