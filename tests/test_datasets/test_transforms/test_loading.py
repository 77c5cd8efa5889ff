"""Fast decoding gives OpenCV's pixels; views share the decoded image."""

import os

import cv2
import numpy as np
import pytest
import torch
from conftest import PHOTOS
from mmcv.transforms import BaseTransform
from PIL import Image

from mmpixpro.datasets.transforms import (
    LoadImageOrSkip,
    MultiViewWithCoord,
    RandomFlipWithCoord,
    decode_bgr,
    image_to_tensor,
)
from mmpixpro.registry import TRANSFORMS


def write_kinds(root) -> list:
    """One file per colour type / bit depth / JPEG flavour."""
    photo = Image.open(f'{PHOTOS}/chelsea.png').convert('RGB')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: OpenCV turns the image
    saves = {
        'base.jpg': lambda p: photo.save(p, quality=90),
        'progressive.jpg': lambda p: photo.save(p, progressive=True),
        'gray.jpg': lambda p: photo.convert('L').save(p),
        'cmyk.jpg': lambda p: photo.convert('CMYK').save(p),
        'rotated.jpg': lambda p: photo.save(p, exif=exif),
        'gray.png': lambda p: photo.convert('L').save(p),
        'gray_alpha.png': lambda p: photo.convert('LA').save(p),
        'rgba.png': lambda p: photo.convert('RGBA').save(p),
        'palette.png': lambda p: photo.convert('P').save(p, transparency=3),
        'bilevel.png': lambda p: photo.convert('1').save(p),
        'deep16.png': lambda p: cv2.imwrite(
            p, (np.random.rand(30, 40, 3) * 65535).astype(np.uint16)
        ),
        'gray16.png': lambda p: cv2.imwrite(
            p, (np.random.rand(30, 40) * 65535).astype(np.uint16)
        ),
        'rgba16.png': lambda p: cv2.imwrite(
            p, (np.random.rand(30, 40, 4) * 65535).astype(np.uint16)
        ),
        # decoded by Pillow (the header it read), to OpenCV's pixels
        'other.bmp': lambda p: photo.save(p),
        'gray.bmp': lambda p: photo.convert('L').save(p),
        'palette.bmp': lambda p: photo.convert('P').save(p),
        'rgb.tif': lambda p: photo.save(p),
        'lzw.tif': lambda p: photo.save(p, compression='tiff_lzw'),
        'gray.tif': lambda p: photo.convert('L').save(p),
        'rgba.tif': lambda p: photo.convert('RGBA').save(p),
        'bilevel.tif': lambda p: photo.convert('1').save(p),
        'gray16.tif': lambda p: cv2.imwrite(
            p, (np.random.rand(30, 40) * 65535).astype(np.uint16)
        ),
        'lossless.webp': lambda p: photo.save(p, lossless=True),
        'lossy.webp': lambda p: photo.save(p, quality=80),
        'rgb.ppm': lambda p: photo.save(p),
        'gray.pgm': lambda p: photo.convert('L').save(p),
        'gray16.pgm': lambda p: cv2.imwrite(
            p, (np.random.rand(30, 40) * 65535).astype(np.uint16)
        ),
    }
    paths = []
    for name, save in saves.items():
        path = os.path.join(root, name)
        save(path)
        paths.append(path)
    photos = sorted(f for f in os.listdir(PHOTOS) if f.endswith(('.png', '.jpg')))
    return paths + [os.path.join(PHOTOS, f) for f in photos]


def test_fast_decoding_equals_opencv(tmp_path):
    for path in write_kinds(str(tmp_path)):
        data = open(path, 'rb').read()
        ours = decode_bgr(data)
        theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert ours.dtype == np.uint8 and ours.shape == theirs.shape, path
        np.testing.assert_array_equal(ours, theirs, err_msg=path)
    assert decode_bgr(b'\x89PNG\r\n\x1a\n broken') is None
    assert decode_bgr(b'\xff\xd8\xff broken') is None
    assert decode_bgr(b'') is None


def test_loader_fast_and_mmcv_paths_agree(tmp_path):
    fast, plain = LoadImageOrSkip(), LoadImageOrSkip(fast_decode=False)
    assert fast.fast_decode and not plain.fast_decode
    assert not LoadImageOrSkip(imdecode_backend='pillow').fast_decode
    for path in write_kinds(str(tmp_path)):
        a, b = fast(dict(img_path=path)), plain(dict(img_path=path))
        np.testing.assert_array_equal(a['img'], b['img'], err_msg=path)
        assert a['ori_shape'] == b['ori_shape'] == a['img'].shape[:2]


@TRANSFORMS.register_module(force=True)
class WriteInPlace(BaseTransform):
    def transform(self, results):
        results['img'][0, 0] = 0
        return results


def test_views_share_a_read_only_image():
    img = np.full((40, 50, 3), 200, np.uint8)
    crop = dict(type='RandomResizedCropWithCoord', scale=16)
    multi = MultiViewWithCoord(transforms=[[crop], [crop]], num_views=[1, 1])
    out = multi(dict(img=img, img_path='a.png'))
    assert all(view.flags.writeable for view in out['img'])
    assert not img.flags.writeable  # nobody wrote into the shared image
    writer = MultiViewWithCoord(
        transforms=[[dict(type='WriteInPlace')], [crop]], num_views=[1, 1]
    )
    with pytest.raises(ValueError, match='read-only'):
        writer(dict(img=np.full((40, 50, 3), 200, np.uint8)))


def test_flip_is_contiguous_and_exact():
    img = np.random.randint(0, 256, (9, 13, 3), np.uint8)
    out = RandomFlipWithCoord(prob=1.0)(dict(img=img, coord=np.zeros(4, np.float32)))
    assert out['img'].flags.c_contiguous
    np.testing.assert_array_equal(out['img'], img[:, ::-1])


@pytest.mark.parametrize('shape', [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4)])
def test_image_to_tensor_is_a_transpose(shape):
    img = np.random.randint(0, 256, shape, np.uint8)
    expected = img.reshape(*shape[:2], -1).transpose(2, 0, 1)
    tensor = image_to_tensor(img)
    assert tensor.is_contiguous()
    assert torch.equal(tensor, torch.from_numpy(np.ascontiguousarray(expected)))


WITHOUT_FAST_DECODERS = """
import sys
sys.modules['pyspng'] = None  # as if not installed: import raises ImportError
sys.modules['simplejpeg'] = None
import cv2, numpy as np
from mmengine.logging import MMLogger
from mmpixpro.datasets.transforms import LoadImageOrSkip, loading
MMLogger.get_instance('fallback')
assert loading.missing_fast_decoders() == ['pyspng', 'simplejpeg']
first, second = LoadImageOrSkip(), LoadImageOrSkip()
assert first.fast_decode
equal = 0
for path in sys.argv[1:]:
    theirs = cv2.imread(path, cv2.IMREAD_COLOR)
    for loader in (first, second):
        np.testing.assert_array_equal(loader(dict(img_path=path))['img'], theirs)
    equal += 1
print('equal', equal)
"""


def test_without_fast_decoders_opencv_decodes_and_one_note(tmp_path):
    """pyspng / simplejpeg absent: same pixels through OpenCV, one log note."""
    import subprocess
    import sys

    paths = write_kinds(str(tmp_path))
    proc = subprocess.run(
        [sys.executable, '-c', WITHOUT_FAST_DECODERS, *paths],
        capture_output=True,
        text=True,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f'equal {len(paths)}' in out
    note = 'pyspng and simplejpeg not installed'
    assert out.count(note) == 1, out[-3000:]
    assert 'decoded by OpenCV (same pixels, slower)' in out
