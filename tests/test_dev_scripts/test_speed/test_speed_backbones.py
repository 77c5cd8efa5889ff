""".dev_scripts/pixpro_speed/backbones: Swin / ConvNeXt PixPro against R50
C5 in one run (FLOPs, parameters, step time and peak memory per image)."""

import json

from pixpro_speed import SpeedOptions, measure_speed
from pixpro_speed.backbones import backbone_config


def test_each_model_against_r50_c5(tmp_path):
    out = tmp_path / 'backbones.json'
    logged = []
    options = SpeedOptions(
        backbones=True,
        backbone_models=['Swin-T C5'],
        device='cpu',
        batch=2,
        size=32,
        steps=1,
        threads=2,
        json=str(out),
    )
    report = measure_speed(options, log=logged.append)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    r50, swin = report['backbones']['R50 C5'], report['backbones']['Swin-T C5']
    assert swin['params_m'] > swin['backbone_params_m']  # + projector, PPM
    for key in ('gflops_per_image', 'params_m', 'peak_mib_per_image'):
        assert swin['ratios'][key] == swin[key] / r50[key]
    # time: against R50's steps taken in turn with it
    assert swin['ratios']['step_s_per_image'] == (
        swin['step_s_per_image'] / swin['r50_step_s_per_image']
    )
    assert all(v > 0 for v in swin['ratios'].values())
    assert r50['ratios'] == dict.fromkeys(swin['ratios'], 1.0)
    assert 26 < swin['backbone_params_m'] < 30  # Swin-T: 28 M
    table = '\n'.join(logged)
    assert '| Swin-T C5 |' in table and '| R50 C5 |' in table


def test_the_cpu_models_have_no_gpu_switches():
    """On CPU the configs' activation checkpointing and AMP are off (AMP is
    --amp's to decide); a ResNet stays ResNet-50."""
    swin = backbone_config('Swin-T P3-P6', 'cpu')
    assert swin.model.backbone.with_cp is False
    assert swin.optim_wrapper.type == 'OptimWrapper'
    assert backbone_config('Swin-T P3-P6', 'cuda').model.backbone.with_cp is True
    assert backbone_config('R50 C5', 'cpu').model.backbone.depth == 50
