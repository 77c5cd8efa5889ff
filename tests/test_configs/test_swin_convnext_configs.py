"""The Swin Transformer and ConvNeXt pre-training configs: the fine-tuning
configs' backbones and FPNs (every tensor name and shape), PixPro's own
values, MoBY's recipe around them, the GPU switches."""

import os.path as osp

import pytest
from conftest import REPO
from helpers import build_downstream
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from paper_rows import BEYOND, VIT

from mmpixpro.registry import MODELS
from mmpixpro.testing import shrink_config

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
BENCH = osp.join(REPO, 'configs', 'benchmarks')
R50_C5 = Config.fromfile(osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'))
# backbone -> (a fine-tuning config of ours that builds it, drop path rate
# of the backbone's own ImageNet training: MoBY's 0.2 for Swin-T)
DET, SEG = 'mmdet', 'mmseg'
FINETUNING = {
    'Swin-T': (f'{DET}/mask-rcnn_swin-t-p4-w7_fpn_1x_coco_mmdet-default.py', 0.2),
    'Swin-S': (
        f'{DET}/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco_mmdet-default.py',
        0.3,
    ),
    'Swin-B': (
        f'{SEG}/swin-base-patch4-window7_upernet_8xb2-160k_ade20k-512x512_mmseg-default.py',
        0.5,
    ),
    'ConvNeXt-T': (
        f'{DET}/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco_mmdet-default.py',
        0.1,
    ),
    'ConvNeXt-S': (
        f'{DET}/cascade-mask-rcnn_convnext-s-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_'
        'coco_mmdet-default.py',
        0.4,
    ),
}  # fmt: skip
C5_WIDTH = {'Swin-B': 1024}  # the others: 768


def shapes(module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def downstream(config: str, part: str):
    """``model.<part>`` of a fine-tuning config, built by its own library."""
    return build_downstream(Config.fromfile(osp.join(BENCH, config)), part)


def ours(cfg: Config, part: str):
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        return MODELS.build(cfg.model[part])


@pytest.mark.parametrize('backbone', sorted(FINETUNING))
def test_the_backbone_is_the_fine_tuning_models(backbone):
    """Every backbone tensor of the pre-training model has the name and
    shape of the fine-tuning model's (the full-size networks)."""
    config = next(c for c, v in BEYOND.items() if v[0] == backbone and v[1] == 'C5')
    cfg = Config.fromfile(osp.join(SELFSUP, config))
    theirs = shapes(downstream(FINETUNING[backbone][0], 'backbone'))
    assert shapes(ours(cfg, 'backbone')) == theirs
    assert len(theirs) > 150


@pytest.mark.parametrize('config', [c for c, v in BEYOND.items() if v[1] == 'P3-P6'])
def test_the_fpn_is_the_detectors(config):
    """The FPN reading pre-trains the Mask R-CNN FPN of mmdet's config for
    that backbone (Swin-B, which mmdet has no detector for: on its widths),
    P3-P6 with the loss."""
    cfg = Config.fromfile(osp.join(SELFSUP, config))
    backbone = BEYOND[config][0]
    det = f'{DET}/mask-rcnn_swin-t-p4-w7_fpn_1x_coco_mmdet-default.py'
    if FINETUNING[backbone][0].startswith(DET):
        det = FINETUNING[backbone][0]
    neck = Config.fromfile(osp.join(BENCH, det)).model.neck
    expected = dict(neck, type='mmdet.FPN')
    if backbone == 'Swin-B':
        expected['in_channels'] = [128, 256, 512, 1024]
    assert cfg.model.neck == expected
    assert cfg.model.out_levels == ('P3', 'P4', 'P5', 'P6')
    assert cfg.model.projector.in_channels == 256
    if FINETUNING[backbone][0].startswith(DET):
        assert shapes(ours(cfg, 'neck')) == shapes(downstream(det, 'neck'))


@pytest.mark.parametrize('config', sorted(BEYOND))
def test_pixpros_values_in_moby_recipe(config):
    backbone, output, instance, epochs, batch = BEYOND[config]
    cfg = Config.fromfile(osp.join(SELFSUP, config))
    model = cfg.model
    # PixPro's own values: T, gamma, l, loss, momentum, projector, data
    assert model.head == R50_C5.model.head
    assert model.base_momentum == R50_C5.model.base_momentum == 0.01
    assert model.data_preprocessor == R50_C5.model.data_preprocessor
    for key in ('hid_channels', 'out_channels', 'norm_cfg'):
        assert model.projector[key] == R50_C5.model.projector[key]
    assert cfg.train_dataloader.dataset == R50_C5.train_dataloader.dataset
    width = C5_WIDTH.get(backbone, 768)
    if output == 'C5':
        assert model.out_levels == ('C5',) and 'neck' not in model
        assert model.projector.in_channels == width
    if instance:
        head = model.instance_head
        assert head.loss == dict(type='InfoNCELoss', temperature=0.2)
        assert head.projector.in_channels == width
    else:
        assert 'instance_head' not in model
    # MoBY's recipe: AdamW, lr 1e-3 per 512 images, wd 0.05, clip 5, AMP
    gpus = int(config.split('_')[3].split('xb')[0])
    assert gpus * cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr.base_batch_size == batch
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay, opt.betas, opt.eps) == (
        'AdamW',
        1e-3 * batch / 512,
        0.05,
        (0.9, 0.999),
        1e-8,
    )
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=5.0)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 5e-4, 5)
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR', 5, epochs)
    assert cosine.eta_min_ratio == 5e-3 and cfg.train_cfg.max_epochs == epochs
    # drop path online only; activation checkpointing; masks seeded per step
    assert model.backbone.drop_path_rate == FINETUNING[backbone][1]
    assert model.target_drop_path is False
    assert model.backbone.with_cp is True
    assert dict(type='IterSeedHook') in cfg.custom_hooks


@pytest.mark.parametrize(
    'config',
    [
        'pixpro_swin-t_c5_8xb64-amp-coslr-100e_in1k.py',
        'pixpro_convnext-t_c5_8xb64-amp-coslr-100e_in1k.py',
    ],
)
def test_no_weight_decay_on_norms_biases_position_tables_layer_scales(config):
    """The optimiser mmengine builds from the config (on the small model):
    weight decay 0.05 on weight matrices and kernels only."""
    cfg = shrink_config(
        Config.fromfile(osp.join(SELFSUP, config)), small_swin_convnext=True, cpu=True
    )
    model = ours(cfg, 'backbone')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {
        id(p): g['weight_decay'] for g in wrapper.param_groups for p in g['params']
    }
    names = dict(model.named_parameters())
    free = [n for n, p in names.items() if decay[id(p)] == 0.0]
    decayed = [n for n, p in names.items() if decay[id(p)] == 0.05]
    assert len(free) + len(decayed) == len(names)
    for name in free:
        assert names[name].ndim == 1 or 'relative_position_bias_table' in name, name
    for name in decayed:
        assert names[name].ndim > 1 and 'relative_position_bias_table' not in name, name
    if 'swin' in config:
        assert any('relative_position_bias_table' in n for n in free)
    else:
        assert any(n.endswith('.gamma') for n in free)  # layer scales
    assert any('norm' in n for n in free) and any(n.endswith('.bias') for n in free)


def test_the_cpu_switch_turns_amp_and_checkpointing_off():
    path = osp.join(SELFSUP, 'pixpro_swin-t_p3-p6_8xb64-amp-coslr-100e_in1k.py')
    gpu = Config.fromfile(path)
    cpu = shrink_config(Config.fromfile(path), cpu=True)
    assert gpu.optim_wrapper.type == 'AmpOptimWrapper' and gpu.model.backbone.with_cp
    assert (
        cpu.optim_wrapper.type == 'OptimWrapper'
        and 'loss_scale' not in cpu.optim_wrapper
    )
    assert cpu.model.backbone.with_cp is False
    assert cpu.optim_wrapper.clip_grad == gpu.optim_wrapper.clip_grad
    gpu.model.backbone.with_cp = False  # the only change to the model
    assert cpu.model == gpu.model


def test_the_model_zoo_rows_say_what_each_config_is():
    """configs/selfsup/README.md (the docs' model zoo): one row per config
    (Swin, ConvNeXt, ViT) with its backbone, output, instance branch, epochs
    and batch, and no result (none trained)."""
    beyond = {**BEYOND, **VIT}
    with open(osp.join(SELFSUP, 'README.md')) as f:
        rows = {
            line.split('|')[1].strip().strip('`'): [c.strip() for c in line.split('|')]
            for line in f
            if line.startswith('| `') and line.split('|')[1].strip('` ') in beyond
        }
    assert rows.keys() == beyond.keys()
    for config, (backbone, output, instance, epochs, batch) in beyond.items():
        cells = rows[config][2:-1]
        assert cells == [
            backbone,
            output,
            'SimCLR*' if instance else '-',
            str(epochs),
            str(batch),
            'not yet trained',
        ], config
