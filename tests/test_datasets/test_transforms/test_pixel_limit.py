"""Decompression bombs: an image's size is read from its header and checked
against ``max_pixels`` before any decoder runs, on every decoder path.

The bombs are written here byte by byte: a PNG whose IDAT is one deflate
block of zero rows, repeated (each ends with a full flush, so the copies
chain), 30000 x 30000 pixels in under 1 MB; JPEG and BMP files whose size
fields are patched to 30000 x 30000.
"""

import os
import struct
import subprocess
import sys
import textwrap
import zlib

import cv2
import numpy as np
import pytest
from conftest import PHOTOS, REPO
from PIL import Image

from mmpixpro.datasets.transforms import LoadImageOrSkip
from mmpixpro.datasets.transforms.loading import (
    MAX_PIXELS,
    ImageTooLarge,
    check_pixels,
    image_size,
    jpeg_size,
    png_size,
)

BOMB = 30000


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)


def zero_png(width: int, height: int, rows_per_block: int = 100) -> bytes:
    """An 8-bit grayscale PNG of zeros, compressed without ever holding its
    pixels: every filtered row is ``width + 1`` zero bytes, so the image
    data is one compressed block of ``rows_per_block`` rows, repeated."""
    assert height % rows_per_block == 0
    block_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate
    block = block_compressor.compress(bytes((width + 1) * rows_per_block))
    block += block_compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no history
    last = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    # Adler-32 of n zero bytes: a stays 1, b = n (mod 65521)
    adler = (((width + 1) * height % 65521) << 16) | 1
    idat = b'\x78\xda' + block * (height // rows_per_block) + last
    idat += struct.pack('>I', adler)
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return (
        b'\x89PNG\r\n\x1a\n'
        + png_chunk(b'IHDR', ihdr)
        + png_chunk(b'IDAT', idat)
        + png_chunk(b'IEND', b'')
    )


def patched_jpeg(width: int, height: int, exif: bool = False) -> bytes:
    """A real JPEG whose start-of-frame declares ``width`` x ``height``."""
    photo = Image.open(f'{PHOTOS}/chelsea.png').convert('RGB')
    path = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'pl_{os.getpid()}.jpg')
    if exif:
        tags = Image.Exif()
        tags[0x0112] = 6
        photo.save(path, exif=tags)
    else:
        photo.save(path)
    data = bytearray(open(path, 'rb').read())
    os.remove(path)
    sof = data.index(b'\xff\xc0')
    data[sof + 5 : sof + 9] = struct.pack('>HH', height, width)
    return bytes(data)


def patched_bmp(width: int, height: int) -> bytes:
    """A real BMP whose header declares ``width`` x ``height``."""
    path = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'pl_{os.getpid()}.bmp')
    Image.open(f'{PHOTOS}/chelsea.png').convert('RGB').save(path)
    data = bytearray(open(path, 'rb').read())
    os.remove(path)
    data[18:26] = struct.pack('<ii', width, height)  # BITMAPINFOHEADER
    return bytes(data)


def test_the_generated_png_is_a_valid_image():
    """The bomb's construction, checked at a size that decodes cheaply."""
    data = zero_png(300, 200)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert img.shape == (200, 300) and not img.any()
    assert len(zero_png(BOMB, BOMB)) < 2**20  # 900 M pixels in under 1 MiB


def test_header_sizes_equal_pillows(tmp_path):
    """Our PNG / JPEG header readers against Pillow's, on several colour
    types and JPEG flavours, and the bundled photos."""
    photo = Image.open(f'{PHOTOS}/chelsea.png').convert('RGB').resize((123, 45))
    exif = Image.Exif()
    exif[0x0112] = 6
    saves = {
        'base.jpg': lambda p: photo.save(p),
        'progressive.jpg': lambda p: photo.save(p, progressive=True),
        'cmyk.jpg': lambda p: photo.convert('CMYK').save(p),
        'exif.jpg': lambda p: photo.save(p, exif=exif),
        'gray.png': lambda p: photo.convert('L').save(p),
        'palette.png': lambda p: photo.convert('P').save(p),
        'deep16.png': lambda p: cv2.imwrite(p, np.zeros((45, 123, 3), np.uint16)),
        'other.tif': lambda p: photo.save(p),
        'other.webp': lambda p: photo.save(p),
        'other.ppm': lambda p: photo.save(p),
    }
    paths = [str(tmp_path / name) for name in saves]
    for path, save in zip(paths, saves.values()):
        save(path)
    paths += [os.path.join(PHOTOS, f) for f in sorted(os.listdir(PHOTOS))]
    for path in paths:
        if path.endswith('.md'):
            continue
        data = open(path, 'rb').read()
        expected = Image.open(path).size
        assert image_size(data) == expected, path
        if path.endswith('.png'):
            assert png_size(data) == expected, path
        if path.endswith('.jpg'):
            assert jpeg_size(data) == expected, path
    assert png_size(zero_png(BOMB, BOMB)) == (BOMB, BOMB)
    assert jpeg_size(patched_jpeg(BOMB, 20000)) == (BOMB, 20000)


BOMBS = {
    'png': lambda: zero_png(BOMB, BOMB),
    'jpeg': lambda: patched_jpeg(BOMB, BOMB),
    'jpeg-with-exif': lambda: patched_jpeg(BOMB, BOMB, exif=True),  # OpenCV's path
    'bmp': lambda: patched_bmp(BOMB, BOMB),  # OpenCV's path, size from Pillow
}
LOADERS = {
    'fast': dict(),
    'opencv': dict(fast_decode=False),
    'pillow': dict(imdecode_backend='pillow'),
    'grayscale': dict(color_type='grayscale'),
}


@pytest.mark.parametrize('kind', list(BOMBS))
@pytest.mark.parametrize('loader', list(LOADERS))
def test_bombs_are_refused_on_every_decoder_path(kind, loader, tmp_path):
    path = str(tmp_path / f'bomb.{kind}')
    with open(path, 'wb') as f:
        f.write(BOMBS[kind]())
    load = LoadImageOrSkip(**LOADERS[loader])
    results = dict(img_path=path)
    assert load(results) is None
    reason = results['unreadable_reason']
    if kind == 'bmp':  # Pillow reads the header, and refuses to go on
        assert 'Pillow refuses its header' in reason, reason
        assert f'({BOMB * BOMB} pixels)' in reason, reason
    else:
        assert f'{BOMB} x {BOMB} = 900.0 M pixels' in reason, reason
        assert f'max_pixels={MAX_PIXELS}' in reason
    with pytest.raises(ImageTooLarge):
        check_pixels(open(path, 'rb').read())


def test_the_limit_is_configurable():
    chelsea = f'{PHOTOS}/chelsea.png'  # 451 x 300
    results = dict(img_path=chelsea)
    assert LoadImageOrSkip(max_pixels=451 * 300 - 1)(results) is None
    assert 'more than max_pixels=135299' in results['unreadable_reason']
    assert LoadImageOrSkip(max_pixels=451 * 300)(dict(img_path=chelsea)) is not None
    assert LoadImageOrSkip(max_pixels=None)(dict(img_path=chelsea)) is not None
    with pytest.raises(ValueError, match='max_pixels'):
        LoadImageOrSkip(max_pixels=0)


MEASURE = """
import os, sys
from mmengine.config import Config
from mmpixpro.datasets import ImageFolder
from mmpixpro.utils import register_all_modules

register_all_modules()

def peak_mib():  # the process's peak resident memory so far
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024

folder, control = sys.argv[1:3]
pipeline = Config.fromfile(sys.argv[3]).train_dataloader.dataset.pipeline
ds = ImageFolder(data_root=folder, pipeline=pipeline)
paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
ds[paths.index(os.path.join(folder, 'a_photo.png'))]  # warm up
before = peak_mib()
skipped = {}
for i in range(len(ds)):
    sample = ds[i]['data_samples']
    skipped.update(zip(sample.get('skipped_images', []),
                       sample.get('skipped_reasons', [])))
after = peak_mib()
ds.pipeline.transforms[0](dict(img_path=control))  # under the limit: decoded
decoded = peak_mib()
print('GROWTH', after - before, decoded - after)
for path, reason in skipped.items():
    print('SKIPPED', os.path.basename(path), reason)
"""


def test_a_bomb_in_the_data_is_skipped_without_memory_growth(tmp_path):
    """Every sample of a folder with a 30000 x 30000 PNG, in a fresh process
    (the pre-training pipeline of the demo config): the bomb is skipped with
    its reason and the peak RSS grows by less than 256 MiB (decoding it
    would take 900 MB gray + 2.7 GB BGR). A control image of 6000 x 6000
    zeros, under the limit, shows that the measurement sees a decode."""
    from conftest import DEMO_CONFIG

    folder = tmp_path / 'data'
    folder.mkdir()
    (folder / 'bomb.png').write_bytes(zero_png(BOMB, BOMB))
    for name in ('chelsea.png', 'coffee.png'):
        (folder / f'a_{name}').write_bytes(open(f'{PHOTOS}/{name}', 'rb').read())
    os.rename(folder / 'a_chelsea.png', folder / 'a_photo.png')
    control = tmp_path / 'control.png'
    control.write_bytes(zero_png(6000, 6000))
    proc = subprocess.run(
        [
            sys.executable,
            '-c',
            textwrap.dedent(MEASURE),
            str(folder),
            str(control),
            DEMO_CONFIG,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    growth, control_growth = map(float, proc.stdout.split('GROWTH')[1].split()[:2])
    skipped = [line for line in proc.stdout.splitlines() if line.startswith('SKIPPED')]
    assert skipped and all(line.startswith('SKIPPED bomb.png ') for line in skipped)
    assert '30000 x 30000 = 900.0 M pixels' in skipped[0]
    assert growth < 256, f'peak RSS grew by {growth:.0f} MiB'
    assert control_growth > 100, f'a 36 M-pixel decode grew it by {control_growth:.0f}'
    # one warning per file, with the reason, in the run's output
    assert (
        proc.stdout.count('image skipped: ') + proc.stderr.count('image skipped: ') == 1
    )
