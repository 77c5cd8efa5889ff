"""SyncBN configs on CPU processes: `tools/dist_train.sh CONFIG 2` runs."""

import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import PHOTOS, REPO
from helpers import checkpoint_path

FPN_HEAD = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_fpn_head_config_trains_on_two_cpu_processes(tmp_path):
    """The README's command on the FPN + head config (ResNet-50, SyncBN
    everywhere), two gloo processes on the bundled photos, one epoch."""
    cmd = [
        'bash',
        'tools/dist_train.sh',
        FPN_HEAD,
        '2',
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={PHOTOS}',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.pin_memory=False',
        'train_dataloader.dataset.pipeline.1.transforms.0.0.scale=64',
        'train_dataloader.dataset.pipeline.1.transforms.1.0.scale=64',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
    ]
    env = dict(
        os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable, PORT=str(free_port())
    )
    result = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert 'SyncBatchNorm layers run on CPU processes as BatchNorm' in output
    ckpt = torch.load(checkpoint_path(str(tmp_path)), weights_only=True)
    # 12 photos / (2 processes x 2 images) = 3 iterations
    assert ckpt['meta']['iter'] == 3
    state = ckpt['state_dict']
    assert state['bbox_head.cls_convs.2.conv.weight'].shape[-1] == 3
    # BN layers keep SyncBN's tensors: the checkpoint loads into SyncBN models
    assert 'backbone.bn1.running_mean' in state
    assert 'projector.projector.0.bn.num_batches_tracked' in state
