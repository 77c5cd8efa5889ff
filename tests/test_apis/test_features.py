"""mmpixpro.apis: a model from a config and a checkpoint, its dense features
through ``PixPro.encode`` and the model's level selection."""

import os.path as osp

import pytest
import torch
from conftest import DEMO_CONFIG, PHOTOS, SQUARE_WIDE

from mmpixpro.apis import (
    dense_features,
    init_model,
    load_image,
    preprocess,
    resize_shape,
    selected_levels,
)

SQUARE = osp.join(PHOTOS, 'astronaut.png')  # 512 x 512


def test_random_init_is_seeded(demo_features):
    model = init_model(DEMO_CONFIG, None, seed=0)
    images = [load_image(osp.join(PHOTOS, p), [96, 96]) for p in SQUARE_WIDE]
    again = dense_features(model, preprocess(model, images))
    torch.testing.assert_close(again['C5'], demo_features['random'])
    assert not torch.allclose(demo_features['random'], demo_features['checkpoint'])


def test_features_are_the_backbone_output(demo_checkpoint):
    """Without a neck the selected level is the backbone's last output, on
    the images as the data preprocessor normalises them."""
    model = init_model(DEMO_CONFIG, demo_checkpoint)
    img = load_image(SQUARE, [64])
    inputs = preprocess(model, [img])
    prep = model.data_preprocessor
    rgb = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None].float()
    torch.testing.assert_close(inputs, (rgb - prep.mean) / prep.std)
    with torch.no_grad():
        expected = model.backbone(inputs)[-1]
    torch.testing.assert_close(dense_features(model, inputs)['C5'], expected)


def test_resize_shape():
    assert resize_shape(512, 512, [224]) == (224, 224)
    # shorter side 96, aspect kept, the long side 144.3 snapped to 32 * 5
    assert resize_shape(300, 451, [96]) == (96, 160)
    assert resize_shape(451, 300, [64]) == (96, 64)
    assert resize_shape(300, 451, [50, 70]) == (50, 70)  # exact


def test_fpn_levels(fpn_head_setup):
    config, ckpt = fpn_head_setup
    model = init_model(config, ckpt)
    assert model.level_names == ['P3', 'P4', 'P5', 'P6', 'P7']
    assert selected_levels(model) == ['P3', 'P4', 'P5', 'P6']
    model = init_model(config, ckpt, levels=['P3', 'P5', 'P3'])
    assert selected_levels(model) == ['P3', 'P5']
    img = load_image(SQUARE, [128])
    feats = dense_features(model, preprocess(model, [img]))
    assert list(feats) == ['P3', 'P5']
    assert feats['P3'].shape == (1, 256, 16, 16)  # stride 8
    assert feats['P5'].shape == (1, 256, 4, 4)  # stride 32
    with pytest.raises(ValueError, match=r"unknown level.*'C5'.*'P3', 'P4'"):
        init_model(config, ckpt, levels=['P5', 'C5'])


def test_checkpoint_of_another_config(demo_checkpoint, fpn_head_setup):
    with pytest.raises(ValueError, match='lacks .*neck'):
        init_model(fpn_head_setup[0], demo_checkpoint)
    with pytest.raises(FileNotFoundError, match='checkpoint'):
        init_model(DEMO_CONFIG, demo_checkpoint + '.missing')


def test_builds_while_a_downstream_scope_is_current():
    """After an mmpretrain / mmdet Runner in the same process (its default
    scope current), the model still comes from mmpixpro's registry."""
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = init_model(DEMO_CONFIG)
        assert DefaultScope.get_current_instance().scope_name == 'mmpretrain'
    assert type(model).__name__ == 'PixPro'
