"""browse_dataset finds exactly the pair rule's positive pairs and draws a
readable sample of them: one per cell of view 1, matching colours at both
ends, on enlarged views."""

import os
import re

import cv2
import mmcv
import numpy as np
import pytest
from conftest import DEMO_CONFIG, PHOTOS, REPO
from helpers import load_tool
from mmengine.config import Config

from mmpixpro.models.utils import pixel_pair_mask
from mmpixpro.visualization import browse_dataset, level_grid

ARGS = ['--cfg-options', f'train_dataloader.dataset.data_root={PHOTOS}']


def expected_pairs(coords, grid, threshold):
    mask = pixel_pair_mask(coords[:1], coords[1:], grid, grid, threshold)[0]
    return mask.nonzero().numpy()


def test_tool_writes_one_png_per_image_with_the_rule_pairs(tmp_path, capsys, recwarn):
    out = tmp_path / 'browse'
    drawn = load_tool('tools/misc/browse_dataset.py').main(
        [DEMO_CONFIG, '--output-dir', str(out), '--num', '3', *ARGS]
    )
    printed = capsys.readouterr().out
    assert not [w for w in recwarn if 'out of bounds' in str(w.message)]
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
        # a sample: one line per view-1 cell that has a pair (at most 49)
        chosen = pairs[picture.drawn]
        assert sorted(chosen[:, 0]) == sorted(set(pairs[:, 0]))
        # each line joins the centres of the paired cells of the two panels,
        # the views enlarged to 448 px
        ph, pw = round(h * picture.scale), round(w * picture.scale)
        assert ph == 448
        (x1, y1), (x2, y2) = picture.view_origins
        r1, c1 = np.divmod(chosen[:, 0], 7)
        r2, c2 = np.divmod(chosen[:, 1], 7)
        starts = np.stack([x1 + (c1 + 0.5) * pw / 7, y1 + (r1 + 0.5) * ph / 7], 1)
        ends = np.stack([x2 + (c2 + 0.5) * pw / 7, y2 + (r2 + 0.5) * ph / 7], 1)
        np.testing.assert_allclose(picture.segments[:, 0], starts)
        np.testing.assert_allclose(picture.segments[:, 1], ends)
        # the PNG holds the picture: the views in their panels ...
        png = mmcv.imread(path, channel_order='rgb')
        np.testing.assert_array_equal(png, picture.image)
        assert png.shape[0] == ph + y1
        view1 = cv2.resize(png[y1 : y1 + ph, x1 : x1 + pw], (w, h), cv2.INTER_AREA)
        packed = sample.views[0][..., ::-1]
        near = (np.abs(view1.astype(int) - packed) < 16).all(-1).mean()
        assert near > 0.5  # grid, lines and dots cover the rest
        # ... and both cells of a drawn pair in one colour, another colour
        # for each view-1 cell (a view-2 cell that two view-1 cells share,
        # when it must be, shows the later one's)
        ends_px = np.round(picture.segments).astype(int)
        at_start = png[ends_px[:, 0, 1], ends_px[:, 0, 0]]
        at_end = png[ends_px[:, 1, 1], ends_px[:, 1, 0]]
        for i, cell in enumerate(chosen[:, 1]):
            sharing = {tuple(at_start[j]) for j in np.flatnonzero(chosen[:, 1] == cell)}
            assert tuple(at_end[i]) in sharing
        assert len({tuple(c) for c in at_start}) == len(chosen)


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
    pairs = expected_pairs(sample.coords, grid, threshold)
    np.testing.assert_array_equal(picture.pairs, pairs)
    assert f'T={threshold:g}' in picture.title
    # thousands of pairs at P3: 64 drawn, from 64 different view-1 cells
    # spread over all of them
    cells = pairs[picture.drawn, 0]
    assert len(cells) == min(64, len(set(pairs[:, 0])))
    assert len(set(cells)) == len(cells)
    if level == 'P3':
        assert len(pairs) > 1000
        first, last = sorted(set(pairs[:, 0]))[:: len(set(pairs[:, 0])) - 1]
        assert {first, last} <= set(cells)


def test_help_names_configs_that_exist():
    tool = load_tool('tools/misc/browse_dataset.py')
    named = re.findall(r'configs/\S+\.py', tool.__doc__)
    assert named
    for path in named:
        assert os.path.isfile(os.path.join(REPO, path)), path


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
