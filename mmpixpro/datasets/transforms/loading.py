"""Image loading that never crashes a worker, with optional faster decoders.

Every image's size is read from its header before anything decodes it, and
an image of more than ``max_pixels`` pixels is refused: a PNG of a few MB can
declare 30000 x 30000 pixels (a "decompression bomb"), gigabytes once
decoded. PNG and JPEG headers are read here; other formats by Pillow, which
opens a file by reading its header only.
"""

import io
import logging
import os
import stat
import struct
import warnings
from typing import Optional, Set, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log

from mmpixpro.registry import TRANSFORMS

# The fast decoders are optional (requirements/optional.txt): without them
# the same pixels come from OpenCV, more slowly.
try:
    import pyspng
except ImportError:
    pyspng = None
try:
    import simplejpeg
except ImportError:
    simplejpeg = None

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SIGNATURE = b'\xff\xd8\xff'
# OpenCV turns JPEGs by their EXIF orientation; such files go to OpenCV.
EXIF_MARKER = b'Exif\x00\x00'


# Pillow's DecompressionBombWarning threshold (OpenCV's own is 2 ** 30).
MAX_PIXELS = 89_478_485
# JPEG start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC): they hold
# the image size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class UnreadableImage(ValueError):
    """An image file that is skipped; the message says why."""


class ImageTooLarge(UnreadableImage):
    """An image whose header declares more pixels than allowed."""


def png_size(data: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from a PNG's IHDR chunk (the first chunk, bytes
    16-24), None if it has none."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE):
        return None
    if data[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', data[16:24])


def jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from a JPEG's first start-of-frame segment
    (``FF Cn, length, precision, height, width``), None if none comes before
    the scan data."""
    if not data.startswith(JPEG_SIGNATURE):
        return None
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan
            return None
        if marker in _JPEG_SOF:
            if pos + 9 > end:
                return None
            height, width = struct.unpack('>HH', data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], 'big')
    return None


def image_size(data: bytes) -> Tuple[int, int]:
    """``(width, height)`` from the image's header, without decoding it.

    Raises:
        ImageTooLarge: Pillow, reading a format other than PNG / JPEG,
            refuses a header of more than twice its ``MAX_IMAGE_PIXELS``
            (179 M pixels by default), whatever ``max_pixels`` says.
        UnreadableImage: the header holds no size this code or Pillow can
            read (then no decoder is tried either).
    """
    if data.startswith(PNG_SIGNATURE):
        size = png_size(data)
    elif data.startswith(JPEG_SIGNATURE):
        size = jpeg_size(data)
    else:
        from PIL import Image

        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as img:  # reads the header
                    size = img.size
        except Image.DecompressionBombError as e:
            # above twice its warning threshold Pillow refuses to say more
            raise ImageTooLarge(f'Pillow refuses its header: {e}') from None
        except Exception:  # not an image Pillow knows, or a damaged header
            size = None
    if size is None:
        raise UnreadableImage(
            'no image size in its header (empty, damaged, or not an image '
            'format that OpenCV and Pillow share)'
        )
    return size


def check_pixels(data: bytes, max_pixels: Optional[int] = MAX_PIXELS) -> None:
    """Refuse an image of more than ``max_pixels`` pixels (None: no limit)
    or without a readable size, from its header.

    Raises:
        ImageTooLarge: too many pixels.
        UnreadableImage: no size in the header.
    """
    width, height = image_size(data)
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(
            f'{width} x {height} = {width * height / 1e6:.1f} M pixels, more '
            f'than max_pixels={max_pixels} ({max_pixels / 1e6:.1f} M): a '
            'decompression bomb, or raise LoadImageOrSkip(max_pixels=...)'
        )


def read_regular_file(path: str) -> bytes:
    """The bytes of a local file; anything but a regular file is refused
    before a byte is read (reading a FIFO would block the worker forever,
    a device like /dev/zero never end).

    Raises:
        UnreadableImage: not a regular file.
        OSError: it cannot be opened.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableImage('not a regular file (a FIFO, device or folder)')
        f = os.fdopen(fd, 'rb')
    except BaseException:
        os.close(fd)
        raise
    with f:
        return f.read()


def decode_bgr(
    data: bytes, max_pixels: Optional[int] = MAX_PIXELS
) -> Optional[np.ndarray]:
    """Decode image bytes to 8-bit BGR ``[H, W, 3]``; None if undecodable,
    or larger than ``max_pixels`` (:func:`check_pixels`, before decoding).

    PNG goes through libspng (``pyspng``) and baseline / progressive JPEG
    through libjpeg-turbo (``simplejpeg``, straight into BGR): on one thread
    1.24x faster than OpenCV's ``imdecode`` on average over the bundled
    photos (0.94x to 2.9x per photo; docs/en/notes/performance.md).
    The pixels equal OpenCV's ``IMREAD_COLOR`` decoding (grayscale, palette,
    alpha and 16-bit PNGs included; tested). Files the fast decoders refuse
    (CMYK JPEG, other formats, damaged files) and JPEGs with EXIF data
    (OpenCV applies their orientation) go to OpenCV.
    """
    try:
        check_pixels(data, max_pixels)
    except UnreadableImage:
        return None
    return _decode_checked(data)


def _decode_checked(data: bytes) -> Optional[np.ndarray]:
    """:func:`decode_bgr` after the size check."""
    img = None
    try:
        if pyspng is not None and data.startswith(PNG_SIGNATURE):
            img = _png_to_bgr(pyspng.load(data))
        elif (
            simplejpeg is not None
            and data.startswith(JPEG_SIGNATURE)
            and data.find(EXIF_MARKER, 0, 65536) < 0
        ):
            img = simplejpeg.decode_jpeg(data, colorspace='BGR')
    except (ValueError, RuntimeError):
        img = None
    if img is None and data:
        try:
            img = mmcv.imfrombytes(data, flag='color', backend='cv2')
        except cv2.error:
            img = None
    return img


def missing_fast_decoders() -> list:
    """Names of the optional fast decoders that are not installed."""
    return [
        name
        for name, module in (('pyspng', pyspng), ('simplejpeg', simplejpeg))
        if module is None
    ]


_noted_missing = False


def note_missing_fast_decoders() -> None:
    """Log once per process which fast decoders are missing, if any."""
    global _noted_missing
    missing = missing_fast_decoders()
    if missing and not _noted_missing:
        _noted_missing = True
        print_log(
            f'{" and ".join(missing)} not installed: those images are decoded '
            'by OpenCV (same pixels, slower); `pip install pyspng simplejpeg` '
            'for the fast path',
            logger='current',
            level=logging.INFO,
        )


def _png_to_bgr(img: np.ndarray) -> np.ndarray:
    """Any pyspng output (L, LA, RGB, RGBA; 8 or 16 bit) -> 8-bit BGR."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)  # OpenCV keeps the high byte
    if img.ndim == 3 and img.shape[2] == 2:  # gray + alpha
        img = img[..., 0]
    if img.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_GRAY2BGR)
    rgb_to_bgr = cv2.COLOR_RGB2BGR if img.shape[2] == 3 else cv2.COLOR_RGBA2BGR
    return cv2.cvtColor(img, rgb_to_bgr)


# Images already reported as too large by this process.
_reported_large: Set[str] = set()


@TRANSFORMS.register_module()
class LoadImageOrSkip(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that returns None for unreadable files.

    (The parent asserts on an image that decodes to None, which kills a
    dataloader worker, and ``ignore_empty`` alone does not catch that.)

    Decoding is to 8-bit BGR: grayscale, palette, RGBA (alpha dropped), CMYK
    JPEG and 16-bit images all arrive as ``[H, W, 3]`` uint8. With
    ``fast_decode`` (default) PNG and JPEG bytes go through
    :func:`decode_bgr`, with the same pixels as OpenCV (the fast decoders
    ``pyspng`` / ``simplejpeg`` are optional: a missing one leaves its format
    to OpenCV, noted once in the log); otherwise (or with
    another ``color_type`` / ``imdecode_backend``) mmcv's ``imfrombytes``.

    Skipped (None, the reason in ``results['unreadable_reason']``, which
    :class:`ImageFolder` passes on): zero-byte, truncated beyond decoding and
    non-image files; anything but a regular file (a FIFO named in a list
    file would block the worker forever); images whose header declares more
    than ``max_pixels`` pixels, on every decoder path and before any decoder
    runs (logged once per file: a decompression bomb, or a limit to raise);
    images whose shorter side is below ``min_size`` (default 1: everything
    decodable is used; the random crop upsamples small images). The dataset
    (:class:`ImageFolder`) then counts the file, reports its path and draws
    another image.

    Args:
        min_size (int): Shorter side below which an image is skipped.
        fast_decode (bool): libspng / libjpeg-turbo for PNG / JPEG.
        max_pixels (int, optional): Most pixels (width x height) an image
            may have; None: no limit. Defaults to :data:`MAX_PIXELS`
            (89.5 M, Pillow's warning threshold; 30000 x 30000 = 900 M).
        **kwargs: Arguments of mmcv's ``LoadImageFromFile``.
    """

    def __init__(
        self,
        min_size: int = 1,
        fast_decode: bool = True,
        max_pixels: Optional[int] = MAX_PIXELS,
        **kwargs,
    ) -> None:
        kwargs.setdefault('color_type', 'color')
        kwargs['ignore_empty'] = True
        super().__init__(**kwargs)
        if max_pixels is not None and max_pixels < 1:
            raise ValueError(f'max_pixels must be positive or None, got {max_pixels}')
        self.min_size = min_size
        self.max_pixels = max_pixels
        # OpenCV's pixels, faster: stands in for the cv2 colour backend only
        self.fast_decode = (
            fast_decode
            and self.color_type == 'color'
            and self.imdecode_backend == 'cv2'
            and self.file_client_args is None
        )
        if self.fast_decode:
            note_missing_fast_decoders()

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            data = self._read(path)
            check_pixels(data, self.max_pixels)
            img = self._decode(data)
        except UnreadableImage as e:
            return self._skip(results, str(e), log=isinstance(e, ImageTooLarge))
        except (AssertionError, ValueError, OSError, cv2.error) as e:
            reason = getattr(e, 'strerror', None) or str(e) or type(e).__name__
            return self._skip(results, reason)
        if img is None:
            return self._skip(results, 'not decodable (damaged or not an image)')
        if img.ndim == 2:  # defensive: a decoder that ignores the colour flag
            img = np.repeat(img[..., None], 3, axis=2)
        if min(img.shape[:2]) < self.min_size:
            return self._skip(
                results, f'{img.shape[1]} x {img.shape[0]}: below min_size'
            )
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def _read(self, path: str) -> bytes:
        """The file's bytes: local files through :func:`read_regular_file`,
        other back ends through mmengine's ``fileio`` as the parent does."""
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args, path)
            return client.get(path)
        backend = fileio.get_file_backend(
            path, backend_args=self.backend_args, enable_singleton=True
        )
        if isinstance(backend, fileio.LocalBackend):
            return read_regular_file(path)
        return backend.get(path)

    def _decode(self, data: bytes) -> Optional[np.ndarray]:
        """Decode bytes whose size was checked."""
        if self.fast_decode:
            return _decode_checked(data)
        return mmcv.imfrombytes(
            data, flag=self.color_type, backend=self.imdecode_backend
        )

    @staticmethod
    def _skip(results: dict, reason: str, log: bool = False) -> None:
        """Note why in ``results`` (the dict the dataset passed in) and
        return None; ``log``: warn once per file and process."""
        results['unreadable_reason'] = reason
        path = results.get('img_path')
        if log and path not in _reported_large:
            _reported_large.add(path)
            print_log(
                f'image skipped: {path}: {reason}',
                logger='current',
                level=logging.WARNING,
            )
        return None
