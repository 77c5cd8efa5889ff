"""tools/benchmarks/train.py (mmpixpro.benchmarks.finetune): fine-tuning runs
through ``FaultTolerantRunner`` in mmdet's, mmseg's and mmpretrain's own
Runners, so a worker that torchrun restarts (``RESTARTS``) resumes from the
newest checkpoint of the work dir that loads."""

import glob
import json
import os.path as osp
import time

import pytest
import torch
from conftest import REPO
from helpers import load_tool
from mmengine.config import Config
from mmpretrain.models import ResNet

from mmpixpro.benchmarks.finetune import finetune_config
from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data

BENCH = osp.join(REPO, 'configs', 'benchmarks')
FCOS = osp.join(BENCH, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
FCN = osp.join(
    BENCH, 'mmseg', 'fcn-d6_r50-d16_4xb2-40k_cityscapes-769x769_mmseg-default.py'
)
LINEAR = osp.join(
    BENCH, 'classification', 'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py'
)


@pytest.fixture(scope='module')
def backbone_checkpoint(tmp_path_factory):
    """A pre-training checkpoint that holds a ResNet-18 backbone only."""
    path = str(tmp_path_factory.mktemp('pretrained') / 'r18.pth')
    state = {'backbone.' + k: v for k, v in ResNet(depth=18).state_dict().items()}
    torch.save({'state_dict': state}, path)
    return path


def small_config(config, root, tmp_path):
    """``config`` made small on generated data, dumped for the tool."""
    if config == FCOS:
        anns = toy_data.make_coco(str(root))
        kwargs = dict(val_ann=anns['val2017'], dataset_edit=coco_split_folders)
        cfg = small_benchmark_config(
            Config.fromfile(config), str(root), (128, 96), **kwargs
        )
    elif config == FCN:
        data = toy_data.make_cityscapes(str(root))
        cfg = small_benchmark_config(Config.fromfile(config), data, (128, 64))
    else:
        data = toy_data.make_imagenet(str(root))
        cfg = small_benchmark_config(Config.fromfile(config), data, 72)
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'  # a fresh singleton
    cfg.train_cfg.val_interval = 1000  # no evaluation before the restart
    path = str(tmp_path / 'config.py')
    cfg.dump(path)
    return path


def runs(work_dir):
    """Per run (oldest first): its log and its logged iterations."""
    out = []
    for folder in sorted(glob.glob(osp.join(work_dir, '2*'))):
        (log,) = glob.glob(osp.join(folder, '*.log'))
        with open(osp.join(folder, 'vis_data', 'scalars.json')) as f:
            iters = [r['iter'] for r in map(json.loads, f) if 'loss' in r]
        out.append((open(log).read(), iters))
    return out


def test_finetune_config_points_the_hook_at_the_checkpoint(backbone_checkpoint):
    cfg = finetune_config(LINEAR, backbone_checkpoint)
    (hook,) = [h for h in cfg.custom_hooks if 'TransferHook' in h.type]
    assert hook.type == 'mmpixpro.PretrainedTransferHook'
    assert hook.checkpoint == osp.abspath(backbone_checkpoint)
    with pytest.raises(KeyError, match='no PretrainedTransferHook'):
        finetune_config(osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py'),
                        backbone_checkpoint)  # fmt: skip


@pytest.mark.parametrize('config', [LINEAR, FCN, FCOS], ids=osp.basename)
def test_a_restarted_worker_resumes_in_the_downstream_runner(
    config, backbone_checkpoint, tmp_path, monkeypatch
):
    train = load_tool('tools/benchmarks/train.py')
    path = small_config(config, tmp_path / 'data', tmp_path)
    work_dir = str(tmp_path / 'work')
    train.main([path, backbone_checkpoint, '--work-dir', work_dir])
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    # The newest file, the one last_checkpoint names, is damaged (a full
    # file system truncated it): skipped.
    damaged = osp.join(work_dir, 'iter_3.pth')
    with open(damaged, 'wb') as f:
        f.write(b'not a checkpoint')
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(damaged)
    # What torchrun sets in the workers it restarts (RESTARTS=N); the command
    # is the same as the first one's, with a longer run.
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    # mmengine names a run's log folder by the second it started: the restart
    # gets a folder of its own (runs() tells the two runs apart by it).
    time.sleep(1.0 - time.time() % 1.0 + 0.05)
    more = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4']
    more.append(f'visualizer.name=again_{tmp_path.name}')  # its own folder
    train.main([path, backbone_checkpoint, '--work-dir', work_dir,
                '--cfg-options', *more])  # fmt: skip
    (first, first_iters), (second, second_iters) = runs(work_dir)
    assert first_iters == [1, 2] and second_iters == [3, 4]
    assert 'damaged checkpoint skipped' in second and 'iter_3.pth' in second
    resumed = osp.join(work_dir, 'iter_2.pth')
    assert f'restart 1 by torchrun: resuming from {resumed}' in second
    assert 'the pre-trained weights are not loaded again' in second
    assert 'the pre-trained weights are not loaded again' not in first
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))


def test_a_downstream_resume_never_runs_a_checkpoint_config(
    backbone_checkpoint, tmp_path
):
    """mmengine's own Runner, as mmdet's / mmpretrain's train.py build it,
    resuming a checkpoint whose meta['config'] is code: the benchmark
    config's transfer hook drops it before ``Runner.resume`` would run it."""
    from mmengine.runner import Runner

    train = load_tool('tools/benchmarks/train.py')
    path = small_config(LINEAR, tmp_path / 'data', tmp_path)
    work_dir = tmp_path / 'work'
    train.main([path, backbone_checkpoint, '--work-dir', str(work_dir)])
    marker = tmp_path / 'payload-ran'
    ckpt = torch.load(work_dir / 'iter_2.pth', weights_only=True)
    ckpt['meta']['config'] = f'x = __import__("os").mknod({str(marker)!r})\n'
    crafted = tmp_path / 'crafted.pth'
    torch.save(ckpt, crafted)
    cfg = finetune_config(path, backbone_checkpoint)
    cfg.merge_from_dict(
        dict(
            work_dir=str(tmp_path / 'again'),
            resume=True,
            load_from=str(crafted),
            visualizer=dict(name=f'again_{tmp_path.name}'),
        )
    )
    cfg.train_cfg.max_iters = 3
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3 and not marker.exists()
    # (a run started in the same second logs into the first one's file)
    logs = glob.glob(str(tmp_path / '*' / '2*' / '*.log'))
    assert any("meta['config'] of the loaded checkpoint ignored" in open(p).read()
               for p in logs)  # fmt: skip
