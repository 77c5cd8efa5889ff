"""The uint8 OpenCV colour maps against torchvision's definitions."""

import math

import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from conftest import PHOTOS

from mmpixpro.datasets.transforms import (
    FastColorJitter,
    FastGaussianBlur,
    FastRandomGrayscale,
    FastSolarize,
)
from mmpixpro.datasets.transforms import photometric as P


@pytest.fixture(scope='module')
def bgr():
    img = cv2.imread(f'{PHOTOS}/coffee.png', cv2.IMREAD_COLOR)
    return cv2.resize(img, (96, 64), interpolation=cv2.INTER_AREA)


def torchvision_map(bgr, fn, *args):
    """Apply a torchvision functional to the RGB tensor of a BGR image."""
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1)
    out = fn(rgb, *args).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(out[..., ::-1])


def level_diff(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.mark.parametrize(
    'ours, theirs, factor',
    [
        (P.adjust_brightness, TF.adjust_brightness, 1.35),
        (P.adjust_brightness, TF.adjust_brightness, 0.6),
        (P.adjust_contrast, TF.adjust_contrast, 1.4),
        (P.adjust_contrast, TF.adjust_contrast, 0.6),
        (P.adjust_saturation, TF.adjust_saturation, 1.2),
        (P.adjust_saturation, TF.adjust_saturation, 0.8),
    ],
)
def test_linear_maps_match_torchvision_to_rounding(bgr, ours, theirs, factor):
    out = ours(bgr, factor)
    assert out.dtype == np.uint8 and out.shape == bgr.shape
    # torchvision truncates where the tables round; its gray is truncated too
    assert level_diff(out, torchvision_map(bgr, theirs, factor)).max() <= 2
    assert level_diff(out, bgr).max() > 10  # the map did something


@pytest.mark.parametrize('turns', [-0.1, -0.03, 0.05, 0.1])
def test_hue_matches_torchvision_to_quantisation(bgr, turns):
    out = P.adjust_hue(bgr, turns)
    diff = level_diff(out, torchvision_map(bgr, TF.adjust_hue, turns))
    # 256 hue steps against torchvision's continuous hue: about one level
    assert diff.mean() < 1.5
    assert level_diff(out, bgr).mean() > 3 * diff.mean()


def test_hue_turns_pure_colours():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 255
    green = P.adjust_hue(red, 1 / 3)
    blue = P.adjust_hue(red, -1 / 3)
    assert green[0, 0].argmax() == 1 and green[0, 0, 1] == 255
    assert blue[0, 0].argmax() == 0 and blue[0, 0, 0] == 255
    assert P.adjust_hue(red, 1e-4) is red  # below one hue step: untouched


def test_grayscale_and_solarize_match_torchvision(bgr):
    gray = FastRandomGrayscale(prob=1.0)(dict(img=bgr))['img']
    theirs = torchvision_map(bgr, TF.rgb_to_grayscale, 3)
    assert gray.shape == bgr.shape and level_diff(gray, theirs).max() <= 1
    assert (gray[..., 0] == gray[..., 2]).all()
    solar = FastSolarize(threshold=128, prob=1.0)(dict(img=bgr))['img']
    np.testing.assert_array_equal(solar, torchvision_map(bgr, TF.solarize, 128))


@pytest.mark.parametrize('sigma', [0.1, 0.7, 2.0])
def test_blur_matches_torchvision_gaussian_blur(bgr, sigma):
    out = P.gaussian_blur(bgr, sigma)
    size = 2 * max(1, math.ceil(3 * sigma)) + 1
    theirs = torchvision_map(bgr, TF.gaussian_blur, [size, size], [sigma, sigma])
    assert level_diff(out, theirs).max() <= 1
    if sigma > 1:
        assert level_diff(out, bgr).max() > 10


def test_probability_and_reproducibility(bgr):
    jitter = FastColorJitter(0.4, 0.4, 0.2, 0.1, prob=0.0)
    assert jitter(dict(img=bgr))['img'] is bgr
    jitter = FastColorJitter(0.4, 0.4, 0.2, 0.1, prob=1.0)
    np.random.seed(3)
    first = jitter(dict(img=bgr))['img']
    np.random.seed(3)
    np.testing.assert_array_equal(first, jitter(dict(img=bgr))['img'])
    assert level_diff(first, bgr).max() > 5
    blur = FastGaussianBlur(prob=0.25)
    np.random.seed(0)
    applied = sum(blur(dict(img=bgr))['img'] is not bgr for _ in range(400))
    assert 70 < applied < 130  # 100 expected


@pytest.mark.parametrize(
    'build, message',
    [
        (lambda: FastColorJitter(hue=0.6), 'hue'),
        (lambda: FastColorJitter(brightness=-0.1), 'brightness'),
        (lambda: FastRandomGrayscale(prob=1.5), 'prob'),
        (lambda: FastGaussianBlur(sigma_range=(0.0, 2.0)), 'sigma_range'),
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()
