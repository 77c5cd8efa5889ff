import numpy as np
import pytest
import torch

from mmpixpro.datasets.transforms import (
    MultiViewWithCoord,
    PackPixProInputs,
    RandomFlipWithCoord,
    RandomResizedCropWithCoord,
)

H, W, OUT = 150, 200, 16


def position_image():
    """Channel 0 holds each pixel's x, channel 1 its y (float32)."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.stack([xs, ys, np.zeros_like(xs)], axis=-1)


def predicted_positions(coord, out):
    """Original-image (x, y) of each output pixel's centre, from the box."""
    x1, y1, x2, y2 = coord
    steps = (np.arange(out) + 0.5) / out
    xs = (x1 + steps * (x2 - x1)) * (W - 1)
    ys = (y1 + steps * (y2 - y1)) * (H - 1)
    return xs[None, :], ys[:, None]


@pytest.mark.parametrize('flip_prob', [0.0, 1.0])
def test_box_points_at_the_cropped_pixels(flip_prob):
    crop = RandomResizedCropWithCoord(
        scale=OUT, interpolation='bilinear', backend='cv2'
    )
    flip = RandomFlipWithCoord(prob=flip_prob)
    np.random.seed(0)
    for _ in range(50):
        results = flip(crop(dict(img=position_image())))
        img, coord = results['img'], results['coord']
        assert coord.dtype == np.float32 and coord.shape == (4,)
        assert (coord[0] > coord[2]) == bool(flip_prob)
        xs, ys = predicted_positions(coord, OUT)
        # Pixel-centre conventions differ by < 0.5 px between the box rule
        # and the resize; a wrong box is off by many pixels.
        assert np.abs(img[..., 0] - xs).max() < 0.51
        assert np.abs(img[..., 1] - ys).max() < 0.51


def test_an_unswapped_flip_would_be_caught():
    np.random.seed(1)
    results = RandomFlipWithCoord(prob=1.0)(
        RandomResizedCropWithCoord(scale=OUT)(dict(img=position_image()))
    )
    wrong = results['coord'][[2, 1, 0, 3]]
    xs, _ = predicted_positions(wrong, OUT)
    assert np.abs(results['img'][..., 0] - xs).max() > 2


def test_flip_only_horizontal():
    with pytest.raises(ValueError, match='horizontal'):
        RandomFlipWithCoord(direction='vertical')


def test_multi_view_keeps_boxes_and_packs_them():
    view = [
        dict(type='RandomResizedCropWithCoord', scale=24),
        dict(type='RandomFlipWithCoord', prob=0.5),
    ]
    multi = MultiViewWithCoord(transforms=[view, view], num_views=[1, 1])
    img = (np.random.rand(60, 80, 3) * 255).astype(np.uint8)
    results = multi(dict(img=img, img_path='a.jpg'))
    assert len(results['img']) == 2 and len(results['coord']) == 2
    assert not np.array_equal(results['coord'][0], results['coord'][1])
    packed = PackPixProInputs()(results)
    assert [t.shape for t in packed['inputs']] == [(3, 24, 24)] * 2
    assert packed['inputs'][0].dtype == torch.uint8
    coords = packed['data_samples'].coords
    assert coords.shape == (2, 4) and coords.dtype == torch.float32
    assert torch.equal(coords[1], torch.from_numpy(results['coord'][1]))
    assert packed['data_samples'].img_path == 'a.jpg'


def test_multi_view_names_a_missing_box():
    multi = MultiViewWithCoord(
        transforms=[[dict(type='mmpretrain.RandomResizedCrop', scale=8)]],
        num_views=2,
    )
    with pytest.raises(KeyError, match='coord'):
        multi(dict(img=np.zeros((20, 20, 3), np.uint8)))


def test_antialiased_crops_are_close_to_pil_bilinear(photos_dir):
    """Shrunk crops of the bundled photos: with the low-pass the pixels are
    closer to PIL's antialiased bilinear resize (the authors' release) than
    OpenCV's plain bilinear resize is."""
    import glob

    import cv2
    from PIL import Image

    paths = sorted(glob.glob(f'{photos_dir}/*.png'))[:4]
    plain = RandomResizedCropWithCoord(scale=64, antialias=False)
    smooth = RandomResizedCropWithCoord(scale=64)
    assert smooth.antialias
    gaps = {'plain': [], 'smooth': []}
    for path in paths:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        for seed in range(5):
            for name, t in (('plain', plain), ('smooth', smooth)):
                np.random.seed(seed)
                out = t(dict(img=img))
                h, w = img.shape[:2]
                x1, y1, x2, y2 = out['coord'] * np.array([w - 1, h - 1] * 2)
                box = (round(x1), round(y1), round(x2) + 1, round(y2) + 1)
                ref = Image.fromarray(img).crop(box).resize((64, 64), Image.BILINEAR)
                gap = np.abs(out['img'].astype(np.float32) - np.asarray(ref)).mean()
                gaps[name].append(gap)
    # every crop of these photos (>= 300 px) shrinks to 64 px by > 1.5x
    assert np.mean(gaps['smooth']) < 0.6 * np.mean(gaps['plain']), gaps
