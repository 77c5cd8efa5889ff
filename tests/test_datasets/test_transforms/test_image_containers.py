"""Only containers whose header was read are decoded, by a decoder that
reads that header: any other container is refused by its magic bytes,
whatever its name, before a decoder sees it; the size decoded is the
header's."""

import io
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import PHOTOS, REPO
from PIL import Image

from mmpixpro.datasets.transforms import LoadImageOrSkip, decode_bgr
from mmpixpro.datasets.transforms.image_header import (
    Header,
    UnreadableImage,
    image_format,
    image_size,
)
from mmpixpro.datasets.transforms.loading import check_decoded


def jpeg2000_liar() -> bytes:
    """A JP2 file whose header box (``ihdr``, which Pillow reads) says
    8 x 8 around a 4000 x 4000 codestream (which OpenJPEG decodes)."""
    out = io.BytesIO()
    Image.new('L', (4000, 4000)).save(
        out, 'JPEG2000', irreversible=True, quality_mode='rates', quality_layers=[200]
    )
    data = bytearray(out.getvalue())
    ihdr = data.index(b'ihdr')
    data[ihdr + 4 : ihdr + 12] = struct.pack('>II', 8, 8)
    return bytes(data)


# Every decoder path of the loader, in a process of its own: a decoder that
# crashes takes only that process.
LOAD_ALL_WAYS = """
import sys
from mmpixpro.datasets.transforms import LoadImageOrSkip
for kwargs in (dict(), dict(fast_decode=False), dict(imdecode_backend='pillow'),
               dict(color_type='grayscale')):
    results = dict(img_path=sys.argv[1])
    out = LoadImageOrSkip(**kwargs)(results)
    print('LOADED' if out is not None else 'SKIPPED', results.get('unreadable_reason'))
"""


def test_a_jpeg2000_named_png_never_reaches_a_decoder(tmp_path):
    """The liar of issue 28: Pillow's header reader says 8 x 8 (under any
    pixel limit); OpenCV, picking its decoder by the data, would decode the
    4000 x 4000 codestream (it crashed the worker). Refused by its magic
    bytes on every decoder path, with one line."""
    path = tmp_path / 'liar.png'
    path.write_bytes(jpeg2000_liar())
    assert Image.open(path).size == (8, 8)  # the lie
    proc = subprocess.run(
        [sys.executable, '-c', LOAD_ALL_WAYS, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == 4, proc.stdout
    for line in lines:
        assert line.startswith(
            'SKIPPED a JPEG 2000 file (by its first bytes), not a format this '
            'loader decodes (PNG, JPEG, BMP, TIFF, WebP, PNM): convert it to '
            'PNG or JPEG'
        ), line
    assert decode_bgr(path.read_bytes()) is None


def other_containers() -> dict:
    """Files OpenCV or Pillow would decode, each under a decoded format's
    name, and what the refusal calls them."""
    photo = Image.open(f'{PHOTOS}/chelsea.png').convert('RGB').resize((40, 30))

    def saved(fmt, **kwargs) -> bytes:
        out = io.BytesIO()
        photo.save(out, fmt, **kwargs)
        return out.getvalue()

    return {
        'jp2.png': (saved('JPEG2000'), 'a JPEG 2000 file'),
        'j2k.jpg': (saved('JPEG2000', no_jp2=True), 'a JPEG 2000 codestream file'),
        'gif.png': (saved('GIF'), 'a GIF file'),
        'exr.png': (b'\x76\x2f\x31\x01' + bytes(60), 'an OpenEXR file'),
        'hdr.jpg': (b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8 +X 8\n', 'a Radiance'),
        'pfm.ppm': (b'PF\n8 8\n-1\n' + bytes(8 * 8 * 12), 'a PFM file'),
        'ras.bmp': (b'\x59\xa6\x6a\x95' + bytes(60), 'a Sun raster file'),
        'text.png': (b'not an image', 'its first bytes are 6e 6f 74 20 61 6e 20 69'),
    }


def test_other_containers_are_refused_by_their_magic_bytes(tmp_path):
    load = LoadImageOrSkip()
    for name, (data, said) in other_containers().items():
        path = tmp_path / name
        path.write_bytes(data)
        results = dict(img_path=str(path))
        assert load(results) is None, name
        reason = results['unreadable_reason']
        assert said in reason, (name, reason)
        assert '\n' not in reason
        with pytest.raises(UnreadableImage):
            image_format(data)
        assert decode_bgr(data) is None, name


def test_the_decoded_formats_by_their_magic_bytes_not_their_names(tmp_path):
    """A file's name says nothing: a PNG named .jpg is a PNG, a WebP named
    .png a WebP; each is decoded, to OpenCV's pixels."""
    photo = Image.open(f'{PHOTOS}/chelsea.png').convert('RGB').resize((40, 30))
    for fmt, name, expected in (
        ('PNG', 'a.jpg', 'PNG'),
        ('JPEG', 'b.png', 'JPEG'),
        ('BMP', 'c.png', 'BMP'),
        ('TIFF', 'd.jpg', 'TIFF'),
        ('WEBP', 'e.png', 'WEBP'),
        ('PPM', 'f.png', 'PPM'),
    ):
        path = tmp_path / name
        photo.save(path, fmt, **({'lossless': True} if fmt == 'WEBP' else {}))
        data = path.read_bytes()
        assert image_format(data) == expected
        assert image_size(data) == (40, 30)
        out = LoadImageOrSkip()(dict(img_path=str(path)))
        theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(out['img'], theirs, err_msg=name)


def test_the_decoded_size_must_be_the_headers():
    img = np.zeros((4000, 3000, 3), np.uint8)
    with pytest.raises(
        UnreadableImage, match='decoded to 3000 x 4000, but its PNG header says 8 x 8'
    ):
        check_decoded(img, Header('PNG', 8, 8))
    check_decoded(img, Header('JPEG', 3000, 4000))
    check_decoded(img, Header('JPEG', 4000, 3000))  # turned by EXIF


def test_an_empty_file_is_named_as_such(tmp_path):
    path = tmp_path / 'empty.png'
    path.write_bytes(b'')
    results = dict(img_path=str(path))
    assert LoadImageOrSkip()(results) is None
    assert results['unreadable_reason'] == 'no image size in its header (an empty file)'
