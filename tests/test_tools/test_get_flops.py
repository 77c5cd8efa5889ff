"""get_flops counts exactly PixPro's online pass, beside the backbone alone."""

import os.path as osp

import pytest
from conftest import DEMO_CONFIG, REPO
from helpers import load_tool, tiny_config
from mmengine.config import Config

from mmpixpro.analysis import pixpro_flops

SELFSUP = osp.join(REPO, 'configs', 'selfsup')


def test_c5_online_pass_is_backbone_projector_and_ppm(capsys):
    """Demo config (ResNet-18 C5) at 64 px: C5 is 2x2, and the extra FLOPs
    are exactly the projector's and the PPM's multiply-adds."""
    report = load_tool('tools/analysis/get_flops.py').main(
        [DEMO_CONFIG, '--shape', '64', '64']
    )
    hw, c_in, hid, out = 2 * 2, 512, 1024, 256
    projector = c_in * hid * hw + 2 * hid * hw + hid * out * hw  # convs + eval BN
    ppm = out * out * hw + 2 * hw * hw * out  # g (1x1 conv), similarity, propagation
    assert report.parts == dict(backbone=report.backbone, projector=projector, head=ppm)
    assert report.online == report.backbone + projector + ppm
    assert report.params['online'] > report.params['backbone']
    printed = capsys.readouterr().out
    giga = report.backbone / 1e9
    assert f'{"backbone alone":30s} {giga:12.2f} {2 * giga:13.2f}' in printed
    assert f'PixPro parts add {100 * report.extra:.1f} %' in printed
    # the same backbone counted alone scales with the input like a ResNet
    assert pixpro_flops(Config.fromfile(DEMO_CONFIG), (128, 128)).backbone > 3.9 * (
        report.backbone
    )


def test_fpn_and_head_parts(tmp_path):
    """FPN + FCOS towers config: every online module is counted once."""
    path = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
    report = pixpro_flops(tiny_config(path, tmp_path), (64, 64))
    assert set(report.parts) == {'backbone', 'neck', 'bbox_head', 'projector', 'head'}
    assert all(n > 0 for n in report.parts.values())
    assert report.online == sum(report.parts.values())
    assert report.parts['backbone'] == report.backbone


@pytest.mark.parametrize(
    'config',
    [
        'pixpro-simclr-star_swin-t_c5_8xb64-amp-coslr-100e_in1k.py',
        'pixpro_convnext-t_p3-p6_8xb64-amp-coslr-100e_in1k.py',
    ],
)
def test_swin_and_convnext_parts(config, tmp_path):
    """Small Swin / ConvNeXt configs: every online module counted once. The
    backbone's part of the online pass leaves out the output norms whose
    results no loss uses (the tracer drops them): under 1 % of it."""
    report = pixpro_flops(tiny_config(osp.join(SELFSUP, config), tmp_path), (64, 64))
    expected = {'backbone', 'projector', 'head'}
    expected |= {'neck'} if 'p3-p6' in config else {'instance_head'}
    assert set(report.parts) == expected
    assert report.online == sum(report.parts.values())
    assert 0.99 * report.backbone < report.parts['backbone'] <= report.backbone


@pytest.mark.parametrize(
    'config',
    [
        'pixpro_swin-t_c5_8xb64-amp-coslr-100e_in1k.py',
        'pixpro_convnext-t_c5_8xb64-amp-coslr-100e_in1k.py',
    ],
)
def test_swin_t_and_convnext_t_at_224_are_the_papers_4_5_gflops(config):
    """The counter sees Swin's attention and ConvNeXt's depthwise convs: the
    full-size backbones count 4.5 GFLOPs at 224 px, as their papers give."""
    report = pixpro_flops(Config.fromfile(osp.join(SELFSUP, config)))
    assert 4.4e9 < report.backbone < 4.6e9
    assert 27e6 < report.params['backbone'] < 29e6


def test_vit_b_16_at_224_is_its_papers_17_6_gflops():
    """Fused attention (mmpretrain's ViT calls scaled_dot_product_attention)
    is counted as its two products: ViT-B/16 counts 17.6 GFLOPs at 224 px and
    86 M parameters, as DeiT's table gives (16.9 without the products)."""
    config = 'pixpro_vit-b-p16_c4_8xb64-amp-coslr-100e_in1k.py'
    report = pixpro_flops(Config.fromfile(osp.join(SELFSUP, config)))
    assert 17.5e9 < report.backbone < 17.7e9
    assert 85e6 < report.params['backbone'] < 87e6
    assert 'aten::scaled_dot_product_attention' not in report.uncounted
