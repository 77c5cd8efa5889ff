"""Faults of a 2-process run (torchrun, gloo, CPU): a killed rank, a
damaged newest checkpoint, a full disk, a non-finite loss or unreadable
images on one rank. The run carries on where a restart helps, stops on every
rank where it would only repeat the failure, and nothing is lost.

Faults are injected at named iterations by test-only hooks
(fault_injection.py) or a patched write (enospc_train.py), never by timing.
"""

import glob
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from conftest import DEMO_CONFIG, PHOTOS, REPO
from fault_injection import fault_config
from test_exact_resume import assert_close, load, scalars

from mmpixpro.engine.resume_checkpoint import checkpoint_problem
from mmpixpro.engine.run_failure import RECORD

HERE = osp.dirname(osp.abspath(__file__))

# The demo config on 64 px crops: 12 photos / (2 processes x 2) = 3 iterations
# an epoch. One dataloader worker per rank: workers started afresh (and
# reseeded) every epoch are what makes a resumed epoch draw the same crops.
OPTIONS = [
    'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=1',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.logger.interval=1',
    'train_dataloader.dataset.pipeline.1.transforms.0.0.scale=64',
    'train_dataloader.dataset.pipeline.1.transforms.1.0.scale=64',
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(work_dir, epochs, *extra, script=None, config=DEMO_CONFIG, **env):
    """``tools/dist_train.sh CONFIG 2`` as a command and its environment
    (fault_injection importable by the workers)."""
    cmd = ['bash', 'tools/dist_train.sh', config, '2']
    cmd += ['--work-dir', str(work_dir), *extra]
    cmd += ['--cfg-options', f'train_cfg.max_epochs={epochs}', *OPTIONS]
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), **env)
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [HERE, env.get('PYTHONPATH')]))
    if script is not None:
        env['TRAIN_SCRIPT'] = script
    return cmd, env


def run(work_dir, epochs, *extra, check=True, extra_options=(), **env):
    cmd, env = dist_train(work_dir, epochs, *extra, **env)
    cmd += list(extra_options)  # after --cfg-options
    result = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def run_logs(work_dir) -> str:
    return ''.join(open(p).read() for p in sorted(glob.glob(f'{work_dir}/*/*.log')))


@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    """The uninterrupted 2-process run: 3 epochs, a checkpoint each."""
    work_dir = tmp_path_factory.mktemp('straight')
    run(work_dir, 3)
    return work_dir


def records_per_attempt(work_dir):
    """Iterations logged by each attempt (timestamp folder), in order."""
    attempts = []
    for path in sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json')):
        with open(path) as f:
            records = [json.loads(line) for line in f]
        attempts.append([r['iter'] for r in records if 'loss' in r])
    return attempts


@pytest.mark.slow
def test_a_killed_rank_is_restarted_and_ends_as_the_straight_run(straight, tmp_path):
    killed = tmp_path / 'killed'
    # Rank 1 is killed once it has trained iteration 4 (of 9; epoch 2 is
    # iterations 4-6, so epoch_2.pth is not written yet).
    config = fault_config(
        tmp_path, DEMO_CONFIG, dict(type='KillRankAfterIter', iteration=4, rank=1)
    )
    result = run(killed, 3, config=config, RESTARTS='1')  # finished by itself

    out = result.stdout + result.stderr
    assert 'restart 1 by torchrun: resuming from' in run_logs(killed), out[-3000:]
    assert f'resuming from {killed / "epoch_1.pth"}' in run_logs(killed)
    first, second = records_per_attempt(killed)  # two attempts
    assert first[:3] == [1, 2, 3] and max(first) <= 4  # rank 0 stopped there
    assert second == list(range(4, 10))

    # Every iteration after the restart is that of the uninterrupted run ...
    a, b = scalars(straight), scalars(killed)
    assert sorted(a) == sorted(b) == list(range(1, 10))
    for it in range(4, 10):
        for key in ('loss', 'lr', 'momentum_tau', 'num_pos_pairs'):
            assert b[it][key] == pytest.approx(a[it][key], rel=1e-5, abs=1e-6), (
                it,
                key,
            )
    # ... and so are the final weights, optimizer state and schedule.
    end_a, end_b = load(straight / 'epoch_3.pth'), load(killed / 'epoch_3.pth')
    assert end_b['meta']['iter'] == 9
    assert_close(end_a['state_dict'], end_b['state_dict'], 'state_dict')
    assert_close(end_a['optimizer'], end_b['optimizer'], 'optimizer')


@pytest.mark.slow
def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(straight, tmp_path):
    work_dir = tmp_path / 'damaged'
    work_dir.mkdir()
    for epoch in (2, 3):  # what the straight run keeps (max_keep_ckpts=2)
        shutil.copy(straight / f'epoch_{epoch}.pth', work_dir)
    damaged = work_dir / 'epoch_3.pth'
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    os.utime(work_dir / 'epoch_2.pth', (1e9, 1e9))  # epoch 3 is the newer file
    (work_dir / 'last_checkpoint').write_text(str(damaged))

    result = run(work_dir, 3, '--resume')

    log = run_logs(work_dir)
    assert f'damaged checkpoint skipped: {damaged}: does not load' in log
    assert f'resume: resuming from {work_dir / "epoch_2.pth"}' in log
    # Epoch 3 trained again from epoch 2: exactly the straight run's.
    assert checkpoint_problem(str(damaged)) is None, result.stdout[-2000:]
    assert_close(
        load(straight / 'epoch_3.pth')['state_dict'],
        load(damaged)['state_dict'],
        'state_dict',
    )


@pytest.mark.slow
def test_a_full_disk_stops_the_run_and_keeps_the_previous_checkpoint(tmp_path):
    script = osp.join(REPO, 'tests', 'test_engine', 'enospc_train.py')
    result = run(tmp_path, 2, script=script, check=False, ENOSPC_AT='epoch_2.pth')
    out = result.stdout + result.stderr

    assert result.returncode != 0
    target = tmp_path / 'epoch_2.pth'
    assert f'could not write {target} (' in out, out[-3000:]
    assert 'No space left on device;' in out
    assert 'free of' in out and 'the previous files are intact' in out
    assert f'could not write {target} (' in run_logs(tmp_path)  # in the run's log
    # Nothing partial left, the previous checkpoint still named and loading.
    assert not target.exists()
    assert not glob.glob(str(tmp_path / '.epoch_2.pth.*.tmp'))
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    previous = load(tmp_path / 'epoch_1.pth')
    assert previous['meta']['iter'] == 3 and previous['meta']['epoch'] == 1
    # A restart would meet the same full disk: recorded for restarted workers.
    record = json.loads((tmp_path / RECORD).read_text())
    assert (
        record['error'] == 'OSError'
        and 'No space left on device' in (record['message'])
    )


def tensors(node):
    """Every tensor in a (nested) checkpoint."""
    if isinstance(node, torch.Tensor):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from tensors(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from tensors(value)


@pytest.mark.slow
def test_a_non_finite_loss_on_one_rank_stops_every_rank_and_is_not_retried(tmp_path):
    work_dir = tmp_path / 'nan'
    # Rank 1's images are NaN at iteration 6, the last of epoch 2: its loss is
    # not finite, rank 0's is, and both ranks' weights are (averaged grads).
    config = fault_config(
        tmp_path, DEMO_CONFIG, dict(type='NonFiniteBatchAt', iteration=6, rank=1)
    )
    result = run(work_dir, 3, config=config, check=False, RESTARTS='2')
    out = result.stdout + result.stderr

    assert result.returncode != 0
    assert 'non-finite loss at iteration 6 on rank 1 of 2: rank 1: loss=nan' in out
    assert 'NonFiniteLossError' in out and 'epoch_1.pth is intact' in out
    # No checkpoint of epoch 2 and none holding a non-finite tensor.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    for path in work_dir.glob('*.pth'):
        for t in tensors(load(path)):
            assert not t.is_floating_point() or torch.isfinite(t).all(), path
    # Recorded; both restarts (RESTARTS=2) stopped at once: no iteration
    # trained twice, none after the failure.
    record = json.loads((work_dir / RECORD).read_text())
    assert record['error'] == 'NonFiniteLossError'
    assert 'restart 1 by torchrun stops at once' in out, out[-3000:]
    assert 'restart 2 by torchrun stops at once' in out
    assert 'iteration 6 on rank 1 of 2' in out.split('restart 2 by torchrun')[1]
    attempts = records_per_attempt(work_dir)
    assert attempts[0] == [1, 2, 3, 4, 5] and not any(attempts[1:]), attempts


@pytest.mark.slow
def test_unreadable_images_of_both_ranks_count_together(tmp_path):
    """Ten images, two unreadable, limit 15 % (1.5 images): with the data in
    order rank 0 reads the first, rank 1 the second. Neither rank alone
    passes the limit; together they do, and both ranks stop."""
    data = tmp_path / 'data'
    data.mkdir()
    (data / '0_zero.jpg').write_bytes(b'')
    (data / '1_text.png').write_text('not an image')
    photos = [n for n in sorted(os.listdir(PHOTOS)) if n.endswith(('.png', '.jpg'))]
    for name in photos[:8]:
        shutil.copy(osp.join(PHOTOS, name), data)
    work_dir = tmp_path / 'work'
    result = run(
        work_dir,
        1,
        check=False,
        extra_options=[
            f'train_dataloader.dataset.data_root={data}',
            'train_dataloader.sampler.shuffle=False',
            'default_hooks.unreadable_images.max_fraction=0.15',
        ],
    )
    out = result.stdout + result.stderr

    assert result.returncode != 0
    assert (
        '2 of 10 images are unreadable, more than max_fraction=0.15 '
        '(over the 2 ranks)' in out
    ), out[-3000:]
    log = run_logs(work_dir)  # rank 0's: each path once
    for name in ('0_zero.jpg', '1_text.png'):
        assert log.count(f'unreadable image skipped: {data / name}') == 1, log[-2000:]
    record = json.loads((work_dir / RECORD).read_text())
    assert record['error'] == 'UnreadableImagesError'


@pytest.mark.slow
def test_a_decoder_crash_on_one_rank_is_named_and_not_retried(tmp_path):
    """Rank 1's dataloader worker crashes decoding 1_crash.png (a real
    segmentation fault, in every attempt, as a bad file would). Before:
    "DataLoader worker (pid N) is killed by signal: Segmentation fault", no
    file named, and every restart crashed again. Now the run stops naming
    the file, records it, and both restarts (RESTARTS=2) stop at once."""
    data = tmp_path / 'data'
    data.mkdir()
    photos = [n for n in sorted(os.listdir(PHOTOS)) if n.endswith(('.png', '.jpg'))]
    for i, name in enumerate(photos[:8]):
        shutil.copy(osp.join(PHOTOS, name), data / f'{i}_{name}')
    os.rename(data / f'1_{photos[1]}', data / '1_crash.png')  # rank 1's first
    work_dir = tmp_path / 'work'
    result = run(
        work_dir,
        2,
        config=fault_config(tmp_path, DEMO_CONFIG),  # imports CrashDecodingOn
        check=False,
        RESTARTS='2',
        extra_options=[
            f'train_dataloader.dataset.data_root={data}',
            'train_dataloader.sampler.shuffle=False',
            'train_dataloader.dataset.pipeline.0.type=CrashDecodingOn',
            'train_dataloader.dataset.pipeline.0.name=1_crash.png',
        ],
    )
    out = result.stdout + result.stderr

    assert result.returncode != 0
    crashing = data / '1_crash.png'
    assert (
        f'killed by signal: Segmentation fault while decoding {crashing}: its '
        'decoder crashes on this file' in out
    ), out[-3000:]
    record = json.loads((work_dir / RECORD).read_text())
    assert record['error'] == 'DecoderCrashError'
    assert f'while decoding {crashing}' in record['message']
    counted = 'counted as unreadable (1 of 8 images unreadable so far)'
    assert counted in record['message']
    assert 'restart 1 by torchrun stops at once' in out, out[-3000:]
    assert 'restart 2 by torchrun stops at once' in out
    assert not any(records_per_attempt(work_dir)[1:])  # no restart trained
