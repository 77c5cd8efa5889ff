"""Kill a real training process with SIGKILL, resume it, and get exactly the
run that was never interrupted."""

import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from fault_injection import fault_config

HERE = osp.dirname(osp.abspath(__file__))

TRAIN = osp.join(REPO, 'tools', 'train.py')
OPTIONS = [
    'train_cfg.max_epochs=3',  # 3 iterations per epoch on the 12 photos
    'train_dataloader.num_workers=2',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.logger.interval=1',
    'train_dataloader.dataset.pipeline.1.transforms.0.0.scale=64',
    'train_dataloader.dataset.pipeline.1.transforms.1.0.scale=64',
]


def command(work_dir, *extra, config=DEMO_CONFIG):
    return [
        sys.executable,
        TRAIN,
        config,
        '--work-dir',
        str(work_dir),
        *extra,
        '--cfg-options',
        *OPTIONS,
    ]


def scalars(work_dir):
    """Per-iteration records of every run (timestamp folder) in work_dir."""
    records = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            record = json.loads(line)
            if 'loss' in record:
                records[record['iter']] = record
    return records


def load(path):
    return torch.load(path, weights_only=True)


def assert_close(a, b, key=''):
    if isinstance(a, torch.Tensor):
        assert torch.allclose(a.float(), b.float(), rtol=1e-5, atol=1e-6), key
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), key
        for k in a:
            assert_close(a[k], b[k], f'{key}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), key
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f'{key}[{i}]')
    else:
        assert a == b or a == pytest.approx(b, rel=1e-6), key


@pytest.mark.slow
def test_sigkill_then_resume_equals_the_straight_run(tmp_path):
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    subprocess.run(
        command(straight), cwd=REPO, check=True, capture_output=True, timeout=600
    )

    # SIGKILL right after epoch 2 is checkpointed (a test-only hook).
    config = fault_config(tmp_path, DEMO_CONFIG, dict(type='KillAfterEpoch', epoch=2))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, REPO]))
    result = subprocess.run(
        command(killed, config=config),
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=600,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    assert (killed / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    assert not (killed / 'epoch_3.pth').exists()

    # State at k (end of epoch 2) is that of the straight run.
    assert_close(
        load(straight / 'epoch_2.pth')['state_dict'],
        load(killed / 'epoch_2.pth')['state_dict'],
    )

    result = subprocess.run(
        command(killed, '--resume'),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    a, b = scalars(straight), scalars(killed)
    assert sorted(a) == list(range(1, 10)) and sorted(b) == list(range(1, 10))
    for it in (7, 8, 9):  # iterations after the resume
        for key in ('loss', 'lr', 'momentum_tau', 'num_pos_pairs'):
            assert b[it][key] == pytest.approx(a[it][key], rel=1e-5, abs=1e-6), (
                it,
                key,
            )

    end_a, end_b = load(straight / 'epoch_3.pth'), load(killed / 'epoch_3.pth')
    assert end_a['meta']['iter'] == end_b['meta']['iter'] == 9
    assert int(end_b['state_dict']['target_net.steps']) == 9
    assert_close(end_a['state_dict'], end_b['state_dict'], 'state_dict')
    assert_close(end_a['optimizer'], end_b['optimizer'], 'optimizer')
    assert_close(
        end_a['param_schedulers'], end_b['param_schedulers'], 'param_schedulers'
    )
