"""The plain-ViT pre-training configs: the ViT Mask R-CNN benchmark's
backbone and pyramid (every tensor name and shape), PixPro's own values,
the Swin / ConvNeXt recipe around them, the GPU switch."""

import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from paper_rows import VIT
from test_swin_convnext_configs import R50_C5, SELFSUP, downstream, ours, shapes

from mmpixpro.testing import shrink_config

BENCH_VIT = 'mmdet/mask-rcnn_vit-b-p16_simple-fpn_1x_coco_mmpixpro.py'
SWIN_C5 = Config.fromfile(
    osp.join(SELFSUP, 'pixpro_swin-t_c5_8xb64-amp-coslr-100e_in1k.py')
)
C4, PYRAMID = sorted(VIT)


@pytest.mark.parametrize('part', ['backbone', 'neck'])
def test_backbone_and_pyramid_are_the_detectors(part):
    """Every tensor of the pre-training ViT and pyramid has the name and
    shape of the Mask R-CNN's (the full-size networks)."""
    cfg = Config.fromfile(osp.join(SELFSUP, PYRAMID))
    theirs = shapes(downstream(BENCH_VIT, part))
    assert shapes(ours(cfg, part)) == theirs
    assert len(theirs) == (150 if part == 'backbone' else 32)
    assert cfg.model.backbone.type == 'mmpretrain.VisionTransformer'
    assert cfg.model.backbone.out_type == 'featmap'


@pytest.mark.parametrize('config', sorted(VIT))
def test_pixpros_values_in_the_swin_recipe(config):
    backbone, output, instance, epochs, batch = VIT[config]
    cfg = Config.fromfile(osp.join(SELFSUP, config))
    model = cfg.model
    assert model.head == R50_C5.model.head
    assert model.base_momentum == 0.01
    assert model.data_preprocessor == R50_C5.model.data_preprocessor
    for key in ('hid_channels', 'out_channels', 'norm_cfg'):
        assert model.projector[key] == R50_C5.model.projector[key]
    assert cfg.train_dataloader.dataset == R50_C5.train_dataloader.dataset
    if output == 'C4':
        assert model.out_levels == ('C4',) and 'neck' not in model
        assert model.projector.in_channels == 768
    else:
        assert model.out_levels == ('P3', 'P4', 'P5', 'P6')
        assert model.neck.type == 'SimpleFeaturePyramid'
        assert model.projector.in_channels == 256
    assert 'instance_head' not in model and not instance
    # the Swin-T C5 config's recipe, but for the ViT's no-decay keys
    assert cfg.train_dataloader.batch_size * 8 == batch == 512
    for key in ('param_scheduler', 'train_cfg', 'auto_scale_lr', 'custom_hooks'):
        assert cfg[key] == SWIN_C5[key], key
    expected = SWIN_C5.optim_wrapper.to_dict()
    expected['paramwise_cfg']['custom_keys'].update(
        pos_embed=dict(decay_mult=0.0), cls_token=dict(decay_mult=0.0)
    )
    assert cfg.optim_wrapper == expected
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and epochs == 100
    assert model.backbone.drop_path_rate == 0.1
    assert model.target_drop_path is False
    # mmpretrain's VisionTransformer has no activation checkpointing
    assert 'with_cp' not in model.backbone


def test_no_weight_decay_on_norms_biases_position_embedding_class_token():
    """The optimiser mmengine builds from the config (on the small model):
    weight decay 0.05 on weight matrices and kernels only."""
    cfg = shrink_config(
        Config.fromfile(osp.join(SELFSUP, PYRAMID)), small_swin_convnext=True, cpu=True
    )
    model = ours(cfg, 'backbone')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {
        id(p): g['weight_decay'] for g in wrapper.param_groups for p in g['params']
    }
    names = dict(model.named_parameters())
    free = {n for n, p in names.items() if decay[id(p)] == 0.0}
    decayed = {n for n, p in names.items() if decay[id(p)] == 0.05}
    assert free | decayed == names.keys()
    assert {'pos_embed', 'cls_token'} <= free
    for name in free - {'pos_embed', 'cls_token'}:
        assert names[name].ndim == 1, name
    for name in decayed:
        assert names[name].ndim > 1, name
    assert any('ln' in n for n in free) and any(n.endswith('.bias') for n in free)


def test_the_cpu_switch_turns_amp_off_and_nothing_else():
    path = osp.join(SELFSUP, PYRAMID)
    gpu = Config.fromfile(path)
    cpu = shrink_config(Config.fromfile(path), cpu=True)
    assert gpu.optim_wrapper.type == 'AmpOptimWrapper'
    assert cpu.optim_wrapper.type == 'OptimWrapper'
    assert cpu.model == gpu.model


def test_the_benchmark_and_pre_training_share_one_definition():
    """configs/_base_/vit_simple_pyramid.py: the pre-training's ViT and
    pyramid are the benchmark's, key for key."""
    bench = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', BENCH_VIT))
    cfg = Config.fromfile(osp.join(SELFSUP, PYRAMID))
    assert cfg.model.backbone == bench.model.backbone
    assert cfg.model.neck == bench.model.neck
