"""Image loading that never crashes a worker, with optional faster decoders.

Before any decoder runs, every image is bounded: its file by ``max_bytes``
(from ``fstat``, before a byte is read), its container by its magic bytes
(only PNG, JPEG, BMP, TIFF, WebP and PNM are decoded), its size by
``max_pixels`` (from its header). Each is decoded by a decoder that reads
the header that was checked (:mod:`.image_header`), and the decoded size
must be the header's.
"""

import logging
import os
import stat
from typing import Optional, Set

import cv2
import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log

from mmpixpro.registry import TRANSFORMS
from mmpixpro.utils.atomic_file import format_bytes
from mmpixpro.utils.decoding_breadcrumb import decoding

from .image_header import (  # noqa: F401 - image_size, png_size ... importable here
    MAX_PIXELS,
    PILLOW_FORMATS,
    Header,
    ImageTooLarge,
    UnreadableImage,
    check_pixels,
    image_size,
    jpeg_size,
    png_size,
)
from .pillow_decode import pillow_decode

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

# OpenCV turns JPEGs by their EXIF orientation; such files go to OpenCV.
EXIF_MARKER = b'Exif\x00\x00'
#: Default most bytes of an image file (see :class:`LoadImageOrSkip`).
MAX_BYTES = 128 << 20


def check_bytes(size: int, max_bytes: Optional[int]) -> None:
    """Refuse a file of more than ``max_bytes`` bytes (None: no limit).

    Raises:
        ImageTooLarge: naming both sizes.
    """
    if max_bytes is not None and size > max_bytes:
        raise ImageTooLarge(
            f'a file of {format_bytes(size)}, more than max_bytes={max_bytes} '
            f'({format_bytes(max_bytes)}, above any ImageNet / COCO image): '
            'raise LoadImageOrSkip(max_bytes=...) for such files'
        )


def read_regular_file(path: str, max_bytes: Optional[int] = None) -> bytes:
    """The bytes of a local file; anything but a regular file, and a file
    of more than ``max_bytes`` bytes (None: no limit; by ``fstat``), is
    refused before a byte is read (reading a FIFO would block the worker
    forever, a device like /dev/zero never end). At most ``max_bytes`` + 1
    bytes are read, so a file that grows meanwhile is refused as well.

    Raises:
        UnreadableImage: not a regular file.
        ImageTooLarge: more than ``max_bytes``.
        OSError: it cannot be opened.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableImage('not a regular file (a FIFO, device or folder)')
        check_bytes(info.st_size, max_bytes)
        f = os.fdopen(fd, 'rb')
    except BaseException:
        os.close(fd)
        raise
    with f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    check_bytes(len(data), max_bytes)
    return data


def check_decoded(img: np.ndarray, header: Header) -> None:
    """The decoded size must be the header's (or, turned by an EXIF
    orientation, its transpose).

    Raises:
        UnreadableImage: another size was decoded.
    """
    height, width = img.shape[:2]
    if (width, height) not in (
        (header.width, header.height),
        (header.height, header.width),
    ):
        raise UnreadableImage(
            f'decoded to {width} x {height}, but its {header.format} header '
            f'says {header.width} x {header.height}'
        )


def decode_bgr(
    data: bytes, max_pixels: Optional[int] = MAX_PIXELS
) -> Optional[np.ndarray]:
    """Decode image bytes to 8-bit BGR ``[H, W, 3]``; None if undecodable,
    not a container decoded here, or larger than ``max_pixels``
    (:func:`~.image_header.check_pixels`, before decoding).

    PNG goes through libspng (``pyspng``) and baseline / progressive JPEG
    through libjpeg-turbo (``simplejpeg``, straight into BGR), faster than
    OpenCV's ``imdecode`` (docs/en/notes/performance.md, "Data").
    The pixels equal OpenCV's ``IMREAD_COLOR`` decoding (grayscale, palette,
    alpha and 16-bit PNGs included; tested). PNG / JPEG files the fast
    decoders refuse (CMYK JPEG, damaged files) and JPEGs with EXIF data
    (OpenCV applies their orientation) go to OpenCV; BMP, TIFF, WebP and
    PNM to Pillow (:mod:`.pillow_decode`).
    """
    try:
        header = check_pixels(data, max_pixels)
        img = _decode_bgr(data, header)
        if img is not None:
            check_decoded(img, header)
    except UnreadableImage:
        return None
    return img


def _decode_bgr(data: bytes, header: Header) -> Optional[np.ndarray]:
    """:func:`decode_bgr` after the header check."""
    if header.format in PILLOW_FORMATS:
        return _by_pillow(data, header, 'color')
    img = None
    try:
        if pyspng is not None and header.format == 'PNG':
            img = _png_to_bgr(pyspng.load(data))
        elif (
            simplejpeg is not None
            and header.format == 'JPEG'
            and data.find(EXIF_MARKER, 0, 65536) < 0
        ):
            img = simplejpeg.decode_jpeg(data, colorspace='BGR')
    except (ValueError, RuntimeError):
        img = None
    if img is None:  # a PNG / JPEG: OpenCV's libpng / libjpeg read its header
        try:
            img = mmcv.imfrombytes(data, flag='color', backend='cv2')
        except cv2.error:
            img = None
    return img


def _by_pillow(data: bytes, header: Header, flag: str) -> Optional[np.ndarray]:
    """:func:`~.pillow_decode.pillow_decode`; None if Pillow fails."""
    try:
        return pillow_decode(data, header.format, flag)
    except Exception:  # noqa: BLE001 - Pillow's readers raise many kinds
        return None


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
    BMP, TIFF, WebP and PNM are decoded by Pillow, whatever the backend
    (:mod:`.pillow_decode`; OpenCV's pixels).

    Before any decoder runs: a local file of more than ``max_bytes`` bytes
    is refused by ``fstat`` (before a byte is read; other storage back ends
    after reading); a container other than PNG, JPEG, BMP, TIFF, WebP and
    PNM is refused by its magic bytes, whatever its name; an image whose
    header declares more than ``max_pixels`` pixels is refused. Each image
    is decoded by a decoder that reads the header that was checked, and the
    decoded size must be the header's (:mod:`.image_header`). While it
    decodes, a dataloader worker leaves the path in its breadcrumb
    (:mod:`mmpixpro.utils.decoding_breadcrumb`), so that a decoder crash
    that kills it can be named.

    Skipped (None, the reason in ``results['unreadable_reason']``, which
    :class:`ImageFolder` passes on): zero-byte, truncated beyond decoding and
    non-image files; other containers; anything but a regular file (a FIFO
    named in a list file would block the worker forever); files over
    ``max_bytes`` and images over ``max_pixels`` (logged once per file: a
    decompression bomb or padded file, or a limit to raise); images whose
    shorter side is below ``min_size`` (default 1: everything decodable is
    used; the random crop upsamples small images). The dataset
    (:class:`ImageFolder`) then counts the file, reports its path and draws
    another image.

    Args:
        min_size (int): Shorter side below which an image is skipped.
        fast_decode (bool): libspng / libjpeg-turbo for PNG / JPEG.
        max_pixels (int, optional): Most pixels (width x height) an image
            may have; None: no limit. Defaults to :data:`MAX_PIXELS`
            (89.5 M, Pillow's warning threshold; 30000 x 30000 = 900 M).
        max_bytes (int, optional): Most bytes an image file may have; None:
            no limit. Defaults to :data:`MAX_BYTES` (128 MiB). The largest
            images relied on: ImageNet's outliers reach 2592 x 3888 (10.1 M
            pixels; M. Ehrlich's survey of every ILSVRC-2012 image,
            "Compression in the ImageNet Dataset", 2021); COCO's are at most
            640 pixels a side (the ``width`` / ``height`` of its annotation
            files). 10.1 M pixels stay under it as a JPEG of random noise at
            quality 100 without chroma subsampling (40 MiB: docs/en/notes/
            performance.md, "Images too large to decode"; photos take far
            less) and even uncompressed at 16 bits per channel with alpha
            (10.1 M x 8 bytes = 77 MiB).
        **kwargs: Arguments of mmcv's ``LoadImageFromFile``.
    """

    def __init__(
        self,
        min_size: int = 1,
        fast_decode: bool = True,
        max_pixels: Optional[int] = MAX_PIXELS,
        max_bytes: Optional[int] = MAX_BYTES,
        **kwargs,
    ) -> None:
        kwargs.setdefault('color_type', 'color')
        kwargs['ignore_empty'] = True
        super().__init__(**kwargs)
        for name, value in (('max_pixels', max_pixels), ('max_bytes', max_bytes)):
            if value is not None and value < 1:
                raise ValueError(f'{name} must be positive or None, got {value}')
        self.min_size = min_size
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
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
            with decoding(path):
                header = check_pixels(data, self.max_pixels)
                img = self._decode(data, header)
            if img is not None:
                check_decoded(img, header)
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
        other back ends through mmengine's ``fileio`` as the parent does
        (their size checked once read)."""
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args, path)
            data = client.get(path)
        else:
            backend = fileio.get_file_backend(
                path, backend_args=self.backend_args, enable_singleton=True
            )
            if isinstance(backend, fileio.LocalBackend):
                return read_regular_file(path, self.max_bytes)
            data = backend.get(path)
        check_bytes(len(data), self.max_bytes)
        return data

    def _decode(self, data: bytes, header: Header) -> Optional[np.ndarray]:
        """Decode bytes whose header was checked."""
        if header.format in PILLOW_FORMATS:
            return _by_pillow(data, header, self.color_type)
        if self.fast_decode:
            return _decode_bgr(data, header)
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
