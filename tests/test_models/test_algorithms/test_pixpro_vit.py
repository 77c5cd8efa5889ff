"""PixPro on mmpretrain's plain ViT (a small ViT-B/16: 2 layers, 192 wide),
on its stride-16 map (C4) and on ViTDet's simple feature pyramid (P3-P6):
the level names and the pair rule at the real strides, the target without
drop path, an exact resume, strict load_from."""

import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope
from test_pixpro_swin_convnext import (
    SELFSUP,
    SWIN_C5,
    build,
    load_from_is_strict,
    resume_is_exact,
    samples,
)

from mmpixpro.models.utils.pixel_pairs import pixel_pair_mask
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
    """96 x 128 views give the stride-16 map 6 x 8 and P3-P6 12 x 16 ... 2 x 2;
    the head's positive pairs are the pair rule's on exactly these maps."""
    model = build(path, tmp_path).train()
    torch.manual_seed(0)
    views = [torch.randn(2, 3, 96, 128) for _ in range(2)]
    coords = torch.tensor(
        [[[0.0, 0.0, 0.8, 0.7], [0.1, 0.2, 0.9, 1.0]],
         [[0.9, 0.1, 0.2, 0.9], [0.3, 0.0, 1.0, 0.6]]]
    )  # fmt: skip
    last, dense = model.encode(model.online_net(), views[0])
    assert tuple(last.shape[-2:]) == (6, 8)  # stride 16
    pyramid = 'p3-p6' in path
    shapes = [(12, 16), (6, 8), (3, 4), (2, 2)] if pyramid else [(6, 8)]
    assert [tuple(x.shape[-2:]) for x in dense] == shapes
    assert all(x.size(1) == 256 for x in dense)  # the projector's output
    losses = model.loss(views, samples(coords))
    expected = torch.stack(
        [
            pixel_pair_mask(coords[:, 0], coords[:, 1], s, s, 0.7).sum((1, 2)).float()
            for s in shapes
        ]
    ).mean()
    assert losses['num_pos_pairs'] == pytest.approx(expected.item())
    assert expected > 0
    assert torch.isfinite(losses['loss_pixel'])


def test_the_target_has_no_drop_path(tmp_path):
    """The target pass is the same twice, the online pass (drop path 0.1)
    is not."""
    model = build(VIT_C4, tmp_path).train()
    torch.manual_seed(0)
    img = torch.randn(8, 3, 64, 64)
    online, target = model.online_net(), model.target_net.module
    with torch.no_grad():
        t1, t2 = model.encode(target, img)[1][0], model.encode(target, img)[1][0]
        o1, o2 = model.encode(online, img)[1][0], model.encode(online, img)[1][0]
    assert torch.equal(t1, t2)
    assert not torch.equal(o1, o2)
    rates = [m.drop_prob for m in model.backbone.modules() if hasattr(m, 'drop_prob')]
    assert max(rates) == pytest.approx(0.1)


def test_a_patch_stride_without_a_level_name_is_refused(tmp_path):
    from helpers import tiny_config

    cfg = tiny_config(VIT_C4, tmp_path)
    cfg.model.backbone.patch_size = 14
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        with pytest.raises(ValueError, match='a patch stride of 14 has no such name'):
            MODELS.build(cfg.model)


def test_a_resumed_vit_pyramid_run_is_the_uninterrupted_one(photos, tmp_path):
    resume_is_exact(VIT_PYRAMID, tmp_path, photos)


def test_load_from_is_strict_about_backbone_and_pyramid(photos, tmp_path):
    """A ViT pyramid checkpoint into its own config (backbone and pyramid
    loaded) and into the Swin one (refused)."""
    load_from_is_strict(
        VIT_PYRAMID, SWIN_C5, tmp_path, photos, parts=('backbone.', 'neck.')
    )
