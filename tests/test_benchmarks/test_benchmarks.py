"""Benchmark configs fine-tune our own checkpoints in mmdet / mmseg /
mmpretrain, on generated data in the real on-disk formats."""

import glob
import json
import os.path as osp
import re

import pytest
import torch
from conftest import REPO
from helpers import load_tool, pretrain, walk
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.small import coco_split_folders, small_benchmark_config
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.utils import toy_data

BENCH = osp.join(REPO, 'configs', 'benchmarks')
SELFSUP = osp.join(REPO, 'configs', 'selfsup')
FCOS = osp.join(BENCH, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco.py')
MASK_FPN = osp.join(BENCH, 'mmdet', 'mask-rcnn_r50_fpn_1x_coco.py')
MASK_C4 = osp.join(BENCH, 'mmdet', 'mask-rcnn_r50-c4_1x_coco.py')
VOC_C4 = osp.join(BENCH, 'mmdet', 'faster-rcnn_r50-c4_24k_voc0712.py')
FCN = osp.join(BENCH, 'mmseg', 'fcn_r50-d8_4xb2-40k_cityscapes-769x769.py')
LINEAR = osp.join(BENCH, 'classification', 'resnet50_linear-8xb32-steplr-100e_in1k.py')
ALL = [FCOS, MASK_FPN, MASK_C4, VOC_C4, FCN, LINEAR]

# Modules (two name levels) that start fresh with a C5 checkpoint.
FRESH_C5 = {
    FCOS: {
        'neck.fpn_convs',
        'neck.lateral_convs',
        'bbox_head.cls_convs',
        'bbox_head.reg_convs',
        'bbox_head.conv_cls',
        'bbox_head.conv_reg',
        'bbox_head.conv_centerness',
        'bbox_head.scales',
    },
    MASK_FPN: {
        'neck.fpn_convs',
        'neck.lateral_convs',
        'rpn_head.rpn_conv',
        'rpn_head.rpn_cls',
        'rpn_head.rpn_reg',
        'roi_head.bbox_head',
        'roi_head.mask_head',
    },
    MASK_C4: {
        'rpn_head.rpn_conv',
        'rpn_head.rpn_cls',
        'rpn_head.rpn_reg',
        'roi_head.shared_head',
        'roi_head.bbox_head',
        'roi_head.mask_head',
    },
    VOC_C4: {
        'rpn_head.rpn_conv',
        'rpn_head.rpn_cls',
        'rpn_head.rpn_reg',
        'roi_head.shared_head',
        'roi_head.bbox_head',
    },
    FCN: {
        'decode_head.conv_seg',
        'decode_head.convs',
        'decode_head.conv_cat',
        'auxiliary_head.conv_seg',
        'auxiliary_head.convs',
    },
    LINEAR: {'head.fc'},
}
PRETRAIN_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def shrink(cfg: Config, data: dict) -> Config:
    """ResNet-18, small images, 2 iterations, generated data."""
    return small_benchmark_config(
        cfg,
        data['root'],
        data['scale'],
        val_ann=data.get('val_ann'),
        dataset_edit=data.get('dataset_edit'),
    )


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    coco = str(root / 'coco')
    anns = toy_data.make_coco(coco)

    coco_data = dict(
        root=coco,
        scale=(128, 96),
        val_ann=anns['val2017'],
        dataset_edit=coco_split_folders,
    )
    return {
        FCOS: coco_data,
        MASK_FPN: coco_data,
        MASK_C4: coco_data,
        VOC_C4: dict(root=toy_data.make_voc(str(root / 'VOCdevkit')), scale=(128, 96)),
        FCN: dict(
            root=toy_data.make_cityscapes(str(root / 'cityscapes')), scale=(128, 64)
        ),
        LINEAR: dict(root=toy_data.make_imagenet(str(root / 'imagenet')), scale=72),
    }


@pytest.fixture(scope='module')
def c5_ckpt(tmp_path_factory):
    return pretrain(
        osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'),
        tmp_path_factory.mktemp('c5'),
    )


@pytest.fixture(scope='module')
def fpn_head_ckpt(tmp_path_factory):
    return pretrain(
        osp.join(SELFSUP, 'pixpro_r50_fpn_head.py'), tmp_path_factory.mktemp('fpn_head')
    )


def build_model(cfg):
    from mmengine.registry import MODELS

    import mmpixpro.benchmarks  # noqa: F401  (what custom_imports does)

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        from mmengine.registry import init_default_scope

        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def fresh_modules(report):
    return {
        '.'.join(k.split('.')[:2])
        for e in report['modules'].values()
        for k in e['fresh']
    }


def check_loaded_equal(model, report, ckpt_path, rules):
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    own = model.state_dict()
    n = 0
    for entry in report['modules'].values():
        for key in entry['loaded']:
            rule = next(r for r in rules if key.startswith(r['model']))
            source = rule['checkpoint'] + key[len(rule['model']) :]
            assert torch.equal(own[key], state[source]), key
            n += 1
    return n


@pytest.mark.parametrize('config', ALL, ids=lambda p: osp.basename(p))
def test_benchmark_loads_our_checkpoint_and_trains(config, data, c5_ckpt, tmp_path):
    cfg = shrink(Config.fromfile(config), data[config])
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    report = transfer_weights(model, c5_ckpt, hook.rules, hook.get('fresh', ()))
    assert check_loaded_equal(model, report, c5_ckpt, hook.rules) > 0
    backbone = report['modules']['backbone']
    assert backbone['loaded'] and not backbone['fresh']
    assert fresh_modules(report) == FRESH_C5[config]
    if 'roi_head' in report['modules'] and 'shared_head' in str(cfg.model.roi_head):
        loaded = report['modules']['roi_head']['loaded']
        assert any(k.startswith('roi_head.shared_head.layer4.') for k in loaded)
        fresh = report['modules']['roi_head']['fresh']
        assert [k for k in fresh if 'shared_head' in k] == [
            k for k in model.state_dict() if k.startswith('roi_head.shared_head.norm.')
        ]

    # The real thing: the config's own Runner, our hook, two iterations, eval.
    hook.checkpoint = c5_ckpt
    cfg.work_dir = str(tmp_path)
    # mmdet / mmseg name their visualizer 'visualizer': a process-wide
    # singleton that would keep writing into the first test's folder.
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    with open(osp.join(tmp_path, 'transfer_report.json')) as f:
        saved = json.load(f)
    assert fresh_modules(saved) == FRESH_C5[config]
    scalars = glob.glob(osp.join(tmp_path, '*', 'vis_data', 'scalars.json'))
    metrics = [json.loads(line) for line in open(scalars[0])]
    timing = {'data_time', 'time', 'step', 'iter', 'epoch'}
    evaluated = [m for m in metrics if 'lr' not in m and set(m) - timing]
    assert evaluated, 'no evaluation was logged'


def test_fcos_takes_fpn_and_towers_from_the_fpn_head_checkpoint(data, fpn_head_ckpt):
    cfg = shrink(Config.fromfile(FCOS), data[FCOS])
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    report = transfer_weights(model, fpn_head_ckpt, hook.rules, hook.fresh)
    assert check_loaded_equal(model, report, fpn_head_ckpt, hook.rules) > 0
    assert fresh_modules(report) == {
        'bbox_head.conv_cls',
        'bbox_head.conv_reg',
        'bbox_head.conv_centerness',
        'bbox_head.scales',
    }
    assert not report['modules']['neck']['fresh']


@pytest.mark.parametrize('config', ALL, ids=lambda p: osp.basename(p))
def test_input_normalisation_equals_pretraining(config):
    pre = Config.fromfile(osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'))
    pre_norm = pre.model.data_preprocessor
    assert (
        dict(mean=pre_norm.mean, std=pre_norm.std) == PRETRAIN_NORM and pre_norm.to_rgb
    )
    cfg = Config.fromfile(config).model.data_preprocessor
    assert list(cfg.mean) == PRETRAIN_NORM['mean']
    assert list(cfg.std) == PRETRAIN_NORM['std']
    assert cfg.get('bgr_to_rgb', cfg.get('to_rgb')) is True


@pytest.mark.parametrize('config', ALL, ids=lambda p: osp.basename(p))
def test_benchmark_protocol(config):
    cfg = Config.fromfile(config)
    backbone = cfg.model.backbone
    assert backbone.get('style', 'pytorch') == 'pytorch'
    assert backbone.get('init_cfg') is None and cfg.model.get('pretrained') is None
    if config != LINEAR:
        assert backbone.norm_cfg.type == 'SyncBN' and backbone.norm_eval is False
        assert backbone.get('frozen_stages', -1) == -1
    assert backbone.type == 'ResNet'  # not ResNetV1c: stem names must match
    # Nothing is downloaded: no URL or model-zoo checkpoint anywhere.
    urls = []
    walk(cfg._cfg_dict, lambda n: urls.extend(v for v in n.values() if '://' in str(v)))
    assert not urls, urls


def test_launcher_refuses_bad_checkpoints(tmp_path, c5_ckpt):
    bench = load_tool('tools/benchmarks/train.py')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        bench.main([FCN, str(tmp_path / 'nope.pth'), '--work-dir', str(tmp_path)])
    # A checkpoint that is not ours: torchvision-style names, no backbone.*
    foreign = tmp_path / 'foreign.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7)}, foreign)
    with pytest.raises(ValueError, match='no backbone'):
        bench.main([FCN, str(foreign), '--work-dir', str(tmp_path)])
    # A pickled payload is refused, not executed.
    evil = tmp_path / 'evil.pth'
    torch.save(
        {'state_dict': {'backbone.x': torch.zeros(1)}, 'x': os_system_payload()}, evil
    )
    with pytest.raises(TransferError, match='safely'):
        bench.main([FCN, str(evil), '--work-dir', str(tmp_path)])
    assert not (tmp_path / 'pwned').exists()


class os_system_payload:
    def __reduce__(self):
        import os

        return (os.system, ('touch /dev/null',))


def test_backbone_that_does_not_fit_stops_before_training(data, c5_ckpt, tmp_path):
    cfg = Config.fromfile(FCN)  # ResNet-50 against an R18 checkpoint
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    with pytest.raises(
        TransferError, match=re.escape('backbone.layer1.0.conv1.weight')
    ):
        transfer_weights(model, c5_ckpt, hook.rules, hook.get('fresh', ()))
    # Through the Runner: the hook raises before the first iteration.
    cfg = shrink(Config.fromfile(FCN), data[FCN])
    cfg.model.backbone.depth = 50
    cfg.model.decode_head.in_channels = 2048
    cfg.model.auxiliary_head.in_channels = 1024
    find_hook_cfg(cfg).checkpoint = c5_ckpt
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError, match='does not fit'):
        runner.train()
    assert runner.iter == 0
