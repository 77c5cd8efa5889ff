"""The benchmark configs through the downstream project's own tools: mmdet's
train.py (the script its package ships, the one ``mim train mmdet`` runs)
with ``--cfg-options load_from=PIXPRO.pth`` fine-tunes through the transfer
hook, same rules and report; a ``load_from`` that is a fine-tuned model of
the config loads as mmengine loads it. A checkpoint of another ResNet depth
stops with the overrides that fit it."""

import argparse
import copy
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
import torch
from conftest import REPO
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmpixpro.benchmarks import TransferError
from mmpixpro.benchmarks.finetune import check_backbone_depth, finetune_config
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import coco_split_folders, shrink_config

MMDET_TRAIN = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
BENCH = osp.join(REPO, 'configs', 'benchmarks')
FCOS = osp.join(BENCH, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
R50_CONFIGS = [
    FCOS,
    osp.join(BENCH, 'mmdet', 'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py'),
    osp.join(BENCH, 'mmdet', 'mask-rcnn_r50-c4_8xb2-ms-90k_coco_paper-protocol.py'),
    osp.join(
        BENCH, 'mmdet', 'faster-rcnn_r50-c4_8xb2-ms-24k_voc0712_paper-protocol.py'
    ),
    osp.join(
        BENCH, 'mmseg', 'fcn-d6_r50-d16_4xb2-40k_cityscapes-769x769_mmseg-default.py'
    ),
    osp.join(
        BENCH,
        'classification',
        'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py',
    ),
]
BN_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')


def small_fcos(coco, name, depth=18, iters=2):
    """The FCOS benchmark on the generated COCO: ``depth`` (18, or 50 as
    configured), small heads and images, ``iters`` iterations."""
    root, val_ann = coco
    cfg = shrink_config(
        Config.fromfile(FCOS),
        depth,
        small_heads=True,
        crop_size=64,
        scale=(128, 96),
        data_root=root,
        batch_size=2,
        iters=iters,
        score_thr=0.0,
        val_ann=val_ann,
        dataset_edit=coco_split_folders,
    )
    cfg.visualizer.name = f'visualizer_{name}'  # a fresh singleton
    return cfg


def mmdet_train(config, work_dir, *options):
    """mmdet's own train.py in a fresh process; its log."""
    cmd = [sys.executable, MMDET_TRAIN, config, '--work-dir', str(work_dir)]
    env = dict(os.environ, OMP_NUM_THREADS='2')
    result = subprocess.run(
        cmd + ['--cfg-options', *options],
        cwd=str(work_dir.parent),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    (log,) = glob.glob(osp.join(str(work_dir), '*', '*.log'))
    return open(log).read() + out


def tensors(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def learned(state, prefix=''):
    """Parameters under ``prefix`` (BN running statistics left out: they
    change in a training forward even with lr 0)."""
    return {
        k: v
        for k, v in state.items()
        if k.startswith(prefix) and not k.endswith(BN_BUFFERS)
    }


def test_mmdet_train_py_takes_a_pixpro_load_from(coco, demo_checkpoint, tmp_path):
    config = str(tmp_path / 'fcos_small.py')
    cfg = small_fcos(coco, tmp_path.name, iters=1)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # train only
    cfg.dump(config)
    assert 'mmpixpro.benchmarks' in open(config).read()  # custom_imports

    # 1. A PixPro pre-training checkpoint as load_from: the hook's.
    first = tmp_path / 'from_pixpro'
    log = mmdet_train(config, first, f'load_from={demo_checkpoint}')
    assert f'Pre-trained checkpoint (from load_from): {demo_checkpoint}' in log
    assert f'Pre-trained weights from {demo_checkpoint}' in log  # the table
    assert 'unexpected key' not in log  # mmengine did not load it
    assert 'Failed to search registry' not in log
    with open(first / 'transfer_report.json') as f:
        report = json.load(f)
    pretrained = tensors(demo_checkpoint)
    backbone = report['modules']['backbone']
    assert set(backbone['loaded']) == {
        k for k in pretrained if k.startswith('backbone.')
    }
    assert not backbone['fresh'] and not report['modules']['neck']['loaded']
    assert 'neck.* starts fresh: the checkpoint has no neck.*' in report['notes']
    finetuned = tensors(first / 'iter_1.pth')
    assert any(
        not torch.equal(finetuned[k], v)
        for k, v in learned(pretrained, 'backbone.').items()
    ), 'one iteration changed nothing: the check below would prove nothing'

    # 2. A fine-tuned model of the config as load_from: mmengine's, as it is
    # (lr 0: what was loaded is what is saved).
    second = tmp_path / 'from_finetuned'
    log = mmdet_train(
        config,
        second,
        f'load_from={first / "iter_1.pth"}',
        'optim_wrapper.optimizer.lr=0.0',
    )
    assert 'is a model of this config: mmengine loads it as it is' in log
    assert not (second / 'transfer_report.json').exists()
    again = learned(tensors(second / 'iter_1.pth'))
    assert again.keys() == learned(finetuned).keys()
    for key, value in learned(finetuned).items():
        assert torch.equal(again[key], value), key


def test_mmdet_train_py_takes_a_detectron2_pkl(coco, tmp_path):
    """A published checkpoint as MoCo's conversion script writes it for
    detectron2 (numpy arrays in a plain pickle) as load_from of mmdet's own
    train.py: recognised, its backbone loaded unconverted, the layout named
    in the log and the report (lr 0: what was loaded is what is saved)."""
    from layout_sources import detectron2_file

    source = detectron2_file(str(tmp_path))
    config = str(tmp_path / 'fcos_small.py')
    cfg = small_fcos(coco, tmp_path.name, iters=1)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # train only
    cfg.optim_wrapper.optimizer.lr = 0.0
    cfg.dump(config)
    work_dir = tmp_path / 'from_pkl'
    log = mmdet_train(config, work_dir, f'load_from={source.path}')
    assert f"{source.path}, layout: detectron2 .pkl, written by 'MOCO'" in log
    assert 'unexpected key' not in log  # mmengine did not load it
    with open(work_dir / 'transfer_report.json') as f:
        report = json.load(f)
    assert report['layout'] == "detectron2 .pkl, written by 'MOCO'"
    assert any(n.startswith('stem.fc* (the classifier') for n in report['notes'])
    expected = {f'backbone.{k}': v for k, v in source.reference.state_dict().items()}
    finetuned = learned(tensors(work_dir / 'iter_1.pth'), 'backbone.')
    assert finetuned
    for key, value in finetuned.items():
        assert torch.equal(value, expected[key]), key


def test_other_routes_and_what_stops(coco, demo_checkpoint, tmp_path):
    pretrained = learned(tensors(demo_checkpoint), 'backbone.')

    # The backbone's init_cfg (a config of one's own that sets it): taken by
    # the hook, same rules and report; lr 0 keeps what was loaded.
    cfg = small_fcos(coco, f'{tmp_path.name}_init')
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=demo_checkpoint, prefix='backbone.'
    )
    cfg.optim_wrapper.optimizer.lr = 0.0
    cfg.work_dir = str(tmp_path / 'init_cfg')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'init_cfg' / 'transfer_report.json').is_file()
    own = runner.model.state_dict()
    for key, value in pretrained.items():
        assert torch.equal(own[key], value), key

    # Two different pre-trained checkpoints: stop before anything loads.
    other = str(tmp_path / 'copy.pth')
    torch.save(torch.load(demo_checkpoint, weights_only=True), other)
    cfg = small_fcos(coco, f'{tmp_path.name}_two')
    find_hook_cfg(cfg).checkpoint = demo_checkpoint
    cfg.load_from = other
    cfg.work_dir = str(tmp_path / 'two')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError, match='two pre-trained checkpoints'):
        runner.train()
    assert runner.iter == 0

    # Evaluating a pre-training checkpoint with the benchmark config (mmdet's
    # test.py sets load_from): refused, not evaluated with random heads.
    cfg = small_fcos(coco, f'{tmp_path.name}_test')
    cfg.load_from = demo_checkpoint
    cfg.work_dir = str(tmp_path / 'test')
    with pytest.raises(TransferError, match='evaluate a checkpoint written by'):
        Runner.from_cfg(cfg).test()


def proposed(message):
    """The ``--cfg-options`` a message proposes, as mmengine parses them."""
    items = message[message.index('--cfg-options') :].split()
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(items).cfg_options


def test_another_depth_stops_with_the_overrides_that_fit(
    coco, demo_checkpoint, tmp_path
):
    # The ResNet-18 demo checkpoint against FCOS as configured (ResNet-50).
    cfg = small_fcos(coco, tmp_path.name, depth=50)
    cfg.load_from = demo_checkpoint
    cfg.work_dir = str(tmp_path / 'r50')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError) as error:
        runner.train()
    message = str(error.value)
    assert '\n' not in message and runner.iter == 0
    assert 'ResNet-18' in message and 'ResNet-50' in message
    options = proposed(message)
    assert options == {
        'model.backbone.depth': 18,
        'model.neck.in_channels': [64, 128, 256, 512],
    }
    # tools/benchmarks/train.py says the same before any Runner exists
    bench = finetune_config(FCOS, demo_checkpoint)
    with pytest.raises(TransferError) as early:
        check_backbone_depth(bench)
    assert proposed(str(early.value)) == options

    # With the overrides the same command fine-tunes.
    cfg = small_fcos(coco, f'{tmp_path.name}_fixed', depth=50)
    cfg.merge_from_dict(options)
    cfg.load_from = demo_checkpoint
    cfg.work_dir = str(tmp_path / 'r18')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert (tmp_path / 'r18' / 'transfer_report.json').is_file()


@pytest.mark.parametrize('config', R50_CONFIGS, ids=osp.basename)
def test_depth_overrides_are_the_widths_the_small_configs_train_with(
    config, demo_checkpoint
):
    """Each benchmark's overrides for a ResNet-18 checkpoint give the model
    that shrink_config makes for ResNet-18 (the model every benchmark test
    fine-tunes), here derived from the checkpoint's tensors."""
    cfg = finetune_config(config, demo_checkpoint)
    with pytest.raises(TransferError) as error:
        check_backbone_depth(cfg)
    expected = shrink_config(copy.deepcopy(cfg), 18).model
    cfg.merge_from_dict(proposed(str(error.value)))
    assert cfg.model.to_dict() == expected.to_dict()
