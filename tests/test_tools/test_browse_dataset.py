"""browse_dataset draws the views and exactly the pair rule's positive pairs."""

import os

import mmcv
import numpy as np
import pytest
from conftest import DEMO_CONFIG, PHOTOS
from helpers import load_tool
from mmengine.config import Config

from mmpixpro.models.utils import pixel_pair_mask
from mmpixpro.visualization import browse_dataset, level_grid

ARGS = ['--cfg-options', f'train_dataloader.dataset.data_root={PHOTOS}']


def expected_pairs(coords, grid, threshold):
    mask = pixel_pair_mask(coords[:1], coords[1:], grid, grid, threshold)[0]
    return mask.nonzero().numpy()


def test_tool_writes_one_png_per_image_with_the_rule_pairs(tmp_path, capsys):
    out = tmp_path / 'browse'
    drawn = load_tool('tools/misc/browse_dataset.py').main(
        [DEMO_CONFIG, '--output-dir', str(out), '--num', '3', *ARGS]
    )
    printed = capsys.readouterr().out
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p, _, _ in drawn)
    assert len(drawn) == 3
    for path, picture, sample in drawn:
        h, w = sample.views[0].shape[:2]
        assert (h, w) == (224, 224) and picture.grid == (7, 7)  # C5 of 224 px
        pairs = expected_pairs(sample.coords, (7, 7), 0.7)
        np.testing.assert_array_equal(picture.pairs, pairs)
        assert 0 < len(pairs) < 49 * 49
        assert f'{len(pairs)} positive pairs' in picture.title
        assert f'{path}: {len(pairs)} positive pairs' in printed
        # each line joins the centres of the paired cells of the two panels
        (x1, y1), (x2, y2) = picture.view_origins
        r1, c1 = np.divmod(pairs[:, 0], 7)
        r2, c2 = np.divmod(pairs[:, 1], 7)
        starts = np.stack([x1 + (c1 + 0.5) * w / 7, y1 + (r1 + 0.5) * h / 7], 1)
        ends = np.stack([x2 + (c2 + 0.5) * w / 7, y2 + (r2 + 0.5) * h / 7], 1)
        np.testing.assert_allclose(picture.segments[:, 0], starts)
        np.testing.assert_allclose(picture.segments[:, 1], ends)
        # the PNG holds the picture: views in their panels, green on the lines
        png = mmcv.imread(path, channel_order='rgb')
        np.testing.assert_array_equal(png, picture.image)
        assert png.shape[0] == 224 + y1
        view1 = png[y1 + 1 : y1 + h - 1, x1 + 1 : x1 + w - 1].astype(int)
        packed = sample.views[0][1:-1, 1:-1, ::-1].astype(int)
        untouched = (view1 == packed).all(-1).mean()
        assert untouched > 0.3  # grid and pair lines cover the rest
        mids = np.round(picture.segments.mean(1)).astype(int)
        green = png[mids[:, 1], mids[:, 0]]
        assert ((green[:, 1] > 150) & (green[:, 0] < 120)).mean() > 0.8


@pytest.mark.parametrize('level,threshold', [('P3', 0.7), ('C4', 1.4)])
def test_levels_and_threshold(tmp_path, level, threshold):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.train_dataloader.dataset.data_root = PHOTOS
    drawn = browse_dataset(
        cfg, str(tmp_path), level=level, threshold=threshold, indices=[4], seed=1
    )
    ((_, picture, sample),) = drawn
    grid = level_grid(level, sample.views[0].shape[:2])
    assert grid == {'P3': (28, 28), 'C4': (14, 14)}[level]
    np.testing.assert_array_equal(
        picture.pairs, expected_pairs(sample.coords, grid, threshold)
    )
    assert f'T={threshold:g}' in picture.title


def test_same_seed_same_views_and_clear_errors(tmp_path):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.train_dataloader.dataset.data_root = PHOTOS
    a = browse_dataset(cfg, str(tmp_path / 'a'), num_images=1, seed=3)[0][2]
    b = browse_dataset(cfg, str(tmp_path / 'b'), num_images=1, seed=3)[0][2]
    np.testing.assert_array_equal(a.coords, b.coords)
    with pytest.raises(ValueError, match='unknown level'):
        level_grid('C9', (224, 224))
    cfg.train_dataloader.dataset.pipeline = [dict(type='LoadImageOrSkip')]
    with pytest.raises(ValueError, match='MultiViewWithCoord'):
        browse_dataset(cfg, str(tmp_path / 'c'), num_images=1)
