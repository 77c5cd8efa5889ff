""".dev_scripts/pixpro_speed/pipelines: the photo sets and the two recipes."""

import os

import numpy as np
import pytest
from conftest import PHOTOS
from pixpro_speed.pipelines import (
    our_pipeline_fn,
    photo_sets,
    pil_pipeline_fn,
)

IMAGES = sorted(f for f in os.listdir(PHOTOS) if f.endswith(('.png', '.jpg')))


def test_photo_sets_are_the_photos_and_jpeg_copies(tmp_path):
    (_, photos), (suffix, copies) = photo_sets(PHOTOS, str(tmp_path))
    assert suffix == ', JPEG q90 copies'
    assert [os.path.basename(p) for p in photos] == IMAGES
    assert len(copies) == len(IMAGES)
    for path in copies:
        with open(path, 'rb') as f:
            assert f.read(2) == b'\xff\xd8'  # JPEG
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError):
        photo_sets(str(empty), str(tmp_path))


def test_both_recipes_give_two_224px_views_with_boxes():
    path = os.path.join(PHOTOS, IMAGES[0])
    np.random.seed(0)
    for view, box in pil_pipeline_fn()(path):
        assert tuple(view.shape) == (3, 224, 224)
        assert box.shape == (4,) and (box >= 0).all() and (box <= 1).all()
    packed = our_pipeline_fn()(path)
    assert [tuple(v.shape) for v in packed['inputs']] == [(3, 224, 224)] * 2
    assert packed['data_samples'].coords.shape == (2, 4)
