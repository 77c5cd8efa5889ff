"""A checkpoint's backbone architecture in words, from the tensors of the
full-size networks the configs build, and the one line that a wrong pairing
stops with."""

import pytest
from mmdet.models.backbones import SwinTransformer
from mmpretrain.models.backbones import ConvNeXt, ResNet, VisionTransformer

from mmpixpro.benchmarks.backbone_arch import arch_mismatch, backbone_name

SWIN = dict(depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], out_indices=(0, 1, 2, 3))
BACKBONES = {
    'Swin-T (window 7)': lambda: SwinTransformer(embed_dims=96, **SWIN),
    'Swin-S (window 7)': lambda: SwinTransformer(
        embed_dims=96, **dict(SWIN, depths=[2, 2, 18, 2])
    ),
    'Swin-B (window 12)': lambda: SwinTransformer(
        embed_dims=128,
        window_size=12,
        **dict(SWIN, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32]),
    ),
    'ConvNeXt-T': lambda: ConvNeXt('tiny', out_indices=[0, 1, 2, 3]),
    'ConvNeXt-S': lambda: ConvNeXt('small', out_indices=[0, 1, 2, 3]),
    'ResNet-50': lambda: ResNet(50),
    # the pre-training and Mask R-CNN configs' ViT; another patch size
    'ViT-B/16': lambda: VisionTransformer('b', patch_size=16, out_type='featmap'),
    'ViT-B/32': lambda: VisionTransformer('b', patch_size=32, out_type='featmap'),
}


@pytest.fixture(scope='module')
def states():
    return {
        name: {f'backbone.{k}': v for k, v in build().state_dict().items()}
        for name, build in BACKBONES.items()
    }


def test_each_backbone_is_named(states):
    for name, state in states.items():
        assert backbone_name(state) == name
    assert backbone_name({'backbone.conv.weight': None}) is None


@pytest.mark.parametrize(
    'ours, theirs',
    [
        ('Swin-T (window 7)', 'ConvNeXt-T'),
        ('Swin-T (window 7)', 'ResNet-50'),
        ('Swin-T (window 7)', 'Swin-S (window 7)'),
        ('Swin-B (window 12)', 'Swin-T (window 7)'),
        ('ConvNeXt-S', 'ConvNeXt-T'),
        ('ResNet-50', 'ConvNeXt-T'),
        ('ViT-B/16', 'Swin-T (window 7)'),
        ('Swin-T (window 7)', 'ViT-B/16'),
        ('ViT-B/16', 'ResNet-50'),
        ('ConvNeXt-T', 'ViT-B/16'),
        ('ViT-B/32', 'ViT-B/16'),
    ],
)
def test_a_wrong_pairing_is_one_line_naming_both(ours, theirs, states):
    message = arch_mismatch('ckpt.pth', states[ours], states[theirs], {})
    assert message == (
        f"'ckpt.pth' does not fit the model: its backbone is a {ours}, "
        f"the config's a {theirs}"
    )


def test_the_same_backbone_or_an_unknown_one_passes(states):
    for name, state in states.items():
        assert arch_mismatch('ckpt.pth', state, state, {}) is None
    unknown = {'backbone.conv.weight': None}
    assert arch_mismatch('ckpt.pth', unknown, states['Swin-T (window 7)'], {}) is None
