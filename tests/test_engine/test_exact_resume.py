"""Kill a real training process with SIGKILL, resume it, and get exactly the
run that was never interrupted; resume with the pixel head's dense or
chunked path forced, bit for bit."""

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
from helpers import tiny_config
from mmengine.hooks import Hook
from mmengine.runner import Runner

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


def assert_close(a, b, key='', exact=False):
    """``a`` and ``b`` (tensors, nested dicts and lists) equal within float
    tolerance, or bit for bit with ``exact``."""
    if isinstance(a, torch.Tensor):
        if exact:
            assert torch.equal(a, b), key
        else:
            assert torch.allclose(a.float(), b.float(), rtol=1e-5, atol=1e-6), key
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), key
        for k in a:
            assert_close(a[k], b[k], f'{key}.{k}', exact)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), key
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f'{key}[{i}]', exact)
    elif exact:
        assert a == b, key
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


class Outputs(Hook):
    """Every value the training step returns, by iteration."""

    def __init__(self):
        self.outputs = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.outputs[runner.iter] = {k: v.item() for k, v in outputs.items()}


def train_in_process(work_dir, photos, max_elements, resume_from=None):
    """Two epochs of one iteration (four photos, batch 4, 64 px, one
    dataloader worker seeded by the epoch) through mmengine's Runner, with
    ``model.head.max_elements`` given; a checkpoint every epoch."""
    cfg = tiny_config(DEMO_CONFIG, work_dir, max_epochs=2, data_root=photos)
    cfg.train_dataloader.num_workers = 1
    cfg.model.head.max_elements = max_elements
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    if resume_from is not None:
        cfg.resume, cfg.load_from = True, resume_from
    runner = Runner.from_cfg(cfg)
    record = Outputs()
    runner.register_hook(record)
    runner.train()
    return record.outputs


@pytest.mark.parametrize('bound', [None, 16], ids=['dense', 'chunked'])
def test_resume_with_a_forced_path_is_bit_identical(tmp_path, photos, bound):
    """C5 of 64 px views, 4 images: one [4, 4, 4] block of 64 elements per
    direction, dense (None) or in 4 checkpointed chunks of one row (16). The
    run resumed from epoch 1 is launched with the other path, keeps the
    checkpoint's (and says so), and ends where the straight run ends, bit for
    bit: every logged value, weights, target, optimizer and schedules."""
    other = 16 if bound is None else None
    straight = train_in_process(tmp_path / 'straight', photos, bound)
    first = str(tmp_path / 'straight' / 'epoch_1.pth')
    resumed = train_in_process(tmp_path / 'resumed', photos, other, first)
    assert sorted(straight) == [0, 1] and sorted(resumed) == [1]
    assert resumed[1] == straight[1]
    end_a = load(tmp_path / 'straight' / 'epoch_2.pth')
    end_b = load(tmp_path / 'resumed' / 'epoch_2.pth')
    recorded = -1 if bound is None else bound
    assert int(end_b['state_dict']['head._extra_state']) == recorded
    for part in ('state_dict', 'optimizer', 'param_schedulers'):
        assert_close(end_a[part], end_b[part], part, exact=True)
    (log,) = glob.glob(str(tmp_path / 'resumed' / '*' / '*.log'))
    assert (
        f'PixelHead: max_elements={bound} from the checkpoint replaces '
        f'max_elements={other} of this launch'
    ) in open(log).read()
