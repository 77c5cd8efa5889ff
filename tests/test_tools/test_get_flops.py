"""get_flops counts exactly PixPro's online pass, beside the backbone alone."""

import os.path as osp

from conftest import DEMO_CONFIG, REPO
from helpers import load_tool, tiny_config
from mmengine.config import Config

from mmpixpro.analysis import pixpro_flops


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
