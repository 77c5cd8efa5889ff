"""Decoding BMP, TIFF, WebP and PNM images by Pillow, to OpenCV's pixels.

Pillow opens the data with the reader of the format its magic bytes name
(:func:`~.image_header.image_format`), reads the header whose size was
checked, and decodes exactly that image: the size checked is the size
decoded. 8-bit images give OpenCV's ``imdecode`` pixels (tested); 16-bit
gray keeps the high byte, as OpenCV does; alpha is dropped. Orientation
tags of these formats are not applied.
"""

import io

import cv2
import numpy as np


def pillow_to_bgr(img) -> np.ndarray:
    """A Pillow image (any mode) as 8-bit BGR ``[H, W, 3]``."""
    if img.mode.startswith('I;16') or img.mode == 'I':  # 16-bit (or int) gray
        deep = np.asarray(img).astype(np.int64)
        gray = (np.clip(deep, 0, 65535) >> 8).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if img.mode == 'L':
        return cv2.cvtColor(np.asarray(img), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(np.asarray(img.convert('RGB')), cv2.COLOR_RGB2BGR)


def pillow_decode(data: bytes, fmt: str, flag: str = 'color') -> np.ndarray:
    """Decode ``fmt`` image bytes (a Pillow format name) by Pillow.

    Args:
        data: The file's bytes.
        fmt: Pillow's name of its format (``'BMP'``, ``'TIFF'``, ...).
        flag: mmcv's colour flags: ``color*`` (BGR), ``grayscale*``, or
            ``unchanged`` (the stored channels, BGR(A) order).

    Raises:
        Exception: whatever Pillow raises on damaged data.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=[fmt]) as img:
        if flag == 'unchanged':
            arr = np.asarray(img)
            if arr.ndim == 3 and arr.shape[2] in (3, 4):
                arr = np.ascontiguousarray(arr[..., [2, 1, 0, 3][: arr.shape[2]]])
            return arr
        bgr = pillow_to_bgr(img)
    if flag.startswith('grayscale'):
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return bgr
