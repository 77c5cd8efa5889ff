"""PixPro on mmpretrain's plain ViT (a small ViT-B/16: 2 layers, 192 wide),
on its stride-16 map (C4) and on ViTDet's simple feature pyramid (P3-P6):
the level names and the pair rule at the real strides, the target without
drop path, an exact resume, strict load_from."""

import os.path as osp

import pytest
from mmengine.registry import DefaultScope
from test_pixpro_swin_convnext import (
    PYRAMID_SHAPES,
    SELFSUP,
    SWIN_C5,
    build,
    load_from_is_strict,
    pairs_at,
    resume_is_exact,
    target_has_no_drop_path,
)

from mmpixpro.registry import MODELS

S = '8xb64-amp-coslr-100e_in1k.py'
VIT_C4 = osp.join(SELFSUP, f'pixpro_vit-b-p16_c4_{S}')
VIT_PYRAMID = osp.join(SELFSUP, f'pixpro_vit-b-p16_p3-p6_{S}')


def test_levels_are_named_by_their_stride(tmp_path):
    """The ViT's map is C4 (stride 2**4); the pyramid's outputs P2-P6."""
    c4, pyramid = build(VIT_C4, tmp_path), build(VIT_PYRAMID, tmp_path)
    assert c4.level_names == ['C4'] and c4.out_indices == [0]
    assert pyramid.level_names == ['P2', 'P3', 'P4', 'P5', 'P6']
    assert pyramid.out_indices == [1, 2, 3, 4]


@pytest.mark.parametrize('path', [VIT_C4, VIT_PYRAMID], ids=osp.basename)
def test_the_pair_rule_runs_at_the_real_strides(path, tmp_path):
    """96 x 128 views give the stride-16 map 6 x 8 and P3-P6 12 x 16 ...
    2 x 2; the head's pairs are the pair rule's on these maps."""
    shapes = PYRAMID_SHAPES if 'p3-p6' in path else [(6, 8)]
    pairs_at(path, tmp_path, (6, 8), shapes)


def test_the_target_has_no_drop_path(tmp_path):
    """Drop path 0.1 online, none in the target."""
    target_has_no_drop_path(VIT_C4, tmp_path, 0.1)


@pytest.mark.parametrize(
    'change, message',
    [
        (dict(patch_size=14), 'a patch stride of 14 has no such name'),
        (dict(out_indices=[0, 1]), r'one output of a plain ViT .* \[0, 1\]'),
    ],
)
def test_a_vit_without_one_named_level_is_refused(change, message, tmp_path):
    from helpers import tiny_config

    cfg = tiny_config(VIT_C4, tmp_path)
    cfg.model.backbone.update(change)
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        with pytest.raises(ValueError, match=message):
            MODELS.build(cfg.model)


def test_a_resumed_vit_pyramid_run_is_the_uninterrupted_one(photos, tmp_path):
    resume_is_exact(VIT_PYRAMID, tmp_path, photos)


def test_load_from_is_strict_about_backbone_and_pyramid(photos, tmp_path):
    """A ViT pyramid checkpoint into its own config (backbone and pyramid
    loaded) and into the Swin one (refused)."""
    load_from_is_strict(
        VIT_PYRAMID, SWIN_C5, tmp_path, photos, parts=('backbone.', 'neck.')
    )
