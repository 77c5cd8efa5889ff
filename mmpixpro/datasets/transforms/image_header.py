"""What an image file is and how large, from its first bytes, before any
decoder sees it.

The container is told by its magic bytes, and only these are decoded: PNG
and JPEG (their headers parsed here; decoded by libspng / libjpeg-turbo or
OpenCV's libpng / libjpeg, which read the same header), BMP, TIFF, WebP and
PNM (headers read by Pillow, restricted to that format, and decoded by
Pillow). Every other container is refused by its first bytes: OpenCV picks
its decoder by the data's own signature, so a JPEG 2000 file named ``.png``
reached OpenJPEG, whose size (the codestream's, 4000 x 4000) need not be
the header's that the pixel check read (8 x 8), and crashed the worker.

An image of more than ``max_pixels`` pixels (width x height from the
header) is refused: a PNG of a few MB can declare 30000 x 30000 pixels (a
"decompression bomb"), gigabytes once decoded.
"""

import io
import re
import struct
import warnings
from typing import NamedTuple, Optional, Tuple

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SIGNATURE = b'\xff\xd8\xff'
# Pillow's names of the formats that Pillow reads and decodes here.
PILLOW_FORMATS = ('BMP', 'TIFF', 'WEBP', 'PPM')
DECODED = 'PNG, JPEG, BMP, TIFF, WebP, PNM'

# Pillow's DecompressionBombWarning threshold (OpenCV's own is 2 ** 30).
MAX_PIXELS = 89_478_485
# JPEG start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC): they hold
# the image size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PNM = re.compile(rb'P[1-6][ \t\r\n]')
# Containers OpenCV or Pillow would decode, named in the refusal.
_REFUSED = (
    (b'\x00\x00\x00\x0cjP  \r\n\x87\n', 'JPEG 2000'),
    (b'\xff\x4f\xff\x51', 'JPEG 2000 codestream'),
    (b'\x00\x00\x00\x0cJXL \r\n\x87\n', 'JPEG XL'),
    (b'\xff\x0a', 'JPEG XL codestream'),
    (b'GIF8', 'GIF'),
    (b'\x76\x2f\x31\x01', 'OpenEXR'),
    (b'#?RADIANCE', 'Radiance HDR'),
    (b'#?RGBE', 'Radiance HDR'),
    (b'PF', 'PFM'),
    (b'Pf', 'PFM'),
    (b'\x59\xa6\x6a\x95', 'Sun raster'),
    (b'8BPS', 'Photoshop'),
    (b'II+\x00', 'BigTIFF'),
    (b'MM\x00+', 'BigTIFF'),
    (b'\x00\x00\x01\x00', 'ICO'),
)


class UnreadableImage(ValueError):
    """An image file that is skipped; the message says why."""


class ImageTooLarge(UnreadableImage):
    """An image whose header declares more pixels (or whose file has more
    bytes) than allowed."""


def image_format(data: bytes) -> str:
    """The format ``data`` starts with, by its magic bytes: ``'PNG'``,
    ``'JPEG'`` or one of :data:`PILLOW_FORMATS` (Pillow's names).

    Raises:
        UnreadableImage: empty, or any other container (named when known).
    """
    if data.startswith(PNG_SIGNATURE):
        return 'PNG'
    if data.startswith(JPEG_SIGNATURE):
        return 'JPEG'
    if data.startswith(b'BM'):
        return 'BMP'
    if data[:4] in (b'II*\x00', b'MM\x00*'):
        return 'TIFF'
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'WEBP'
    if _PNM.match(data):
        return 'PPM'
    if not data:
        raise UnreadableImage('no image size in its header (an empty file)')
    if data[4:8] == b'ftyp':
        name = f'ISO media ({data[8:12].decode("latin-1")!r}: HEIF, AVIF ...)'
    else:
        name = next((n for magic, n in _REFUSED if data.startswith(magic)), None)
    if name is None:
        raise UnreadableImage(
            f'not an image format this loader decodes ({DECODED}): its first '
            f'bytes are {data[:8].hex(" ")}'
        )
    article = 'an' if name[0] in 'AEIOU' else 'a'
    raise UnreadableImage(
        f'{article} {name} file (by its first bytes), not a format this '
        f'loader decodes ({DECODED}): convert it to PNG or JPEG'
    )


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


def pillow_size(data: bytes, fmt: str) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from the header of a ``fmt`` image as Pillow
    reads it (that format's reader only), None if it cannot.

    Raises:
        ImageTooLarge: Pillow refuses a header of more than twice its
            ``MAX_IMAGE_PIXELS`` (179 M pixels by default).
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                return img.size  # only the header was read
    except Image.DecompressionBombError as e:
        # above twice its warning threshold Pillow refuses to say more
        raise ImageTooLarge(f'Pillow refuses its header: {e}') from None
    except Exception:  # noqa: BLE001 - a damaged header, whatever Pillow says
        return None


class Header(NamedTuple):
    """An image's format (:func:`image_format`) and size, from its header."""

    format: str
    width: int
    height: int


def read_header(data: bytes) -> Header:
    """The image's format and size from its header, without decoding it.

    Raises:
        ImageTooLarge: Pillow refuses its header (see :func:`pillow_size`),
            whatever ``max_pixels`` says.
        UnreadableImage: a container this loader does not decode
            (:func:`image_format`), or no size in its header (then no
            decoder is tried either).
    """
    fmt = image_format(data)
    if fmt == 'PNG':
        size = png_size(data)
    elif fmt == 'JPEG':
        size = jpeg_size(data)
    else:
        size = pillow_size(data, fmt)
    if size is None:
        raise UnreadableImage(f'no image size in its {fmt} header (damaged)')
    return Header(fmt, *size)


def image_size(data: bytes) -> Tuple[int, int]:
    """``(width, height)`` from the image's header (:func:`read_header`)."""
    return read_header(data)[1:]


def check_pixels(data: bytes, max_pixels: Optional[int] = MAX_PIXELS) -> Header:
    """The image's header (:func:`read_header`); an image of more than
    ``max_pixels`` pixels (None: no limit) is refused.

    Raises:
        ImageTooLarge: too many pixels.
        UnreadableImage: no size in the header, or a container this loader
            does not decode.
    """
    header = read_header(data)
    width, height = header.width, header.height
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(
            f'{width} x {height} = {width * height / 1e6:.1f} M pixels, more '
            f'than max_pixels={max_pixels} ({max_pixels / 1e6:.1f} M): a '
            'decompression bomb, or raise LoadImageOrSkip(max_pixels=...)'
        )
    return header
