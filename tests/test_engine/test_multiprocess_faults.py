"""Faults of a 2-process run (torchrun, gloo, CPU): a killed rank, a
damaged newest checkpoint, a full disk. The run carries on, nothing is lost."""

import glob
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import DEMO_CONFIG, REPO
from test_exact_resume import assert_close, load, scalars

from mmpixpro.engine.resume_checkpoint import checkpoint_problem

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


def dist_train(work_dir, epochs, *extra, script=None, **env):
    """``tools/dist_train.sh DEMO 2`` as a command and its environment."""
    cmd = ['bash', 'tools/dist_train.sh', DEMO_CONFIG, '2']
    cmd += ['--work-dir', str(work_dir), *extra]
    cmd += ['--cfg-options', f'train_cfg.max_epochs={epochs}', *OPTIONS]
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), **env)
    env['OMP_NUM_THREADS'] = '1'
    if script is not None:
        env['TRAIN_SCRIPT'] = script
    return cmd, env


def run(work_dir, epochs, *extra, check=True, **env):
    cmd, env = dist_train(work_dir, epochs, *extra, **env)
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


def worker_pid(root_pid: int, rank: int) -> int:
    """The training process of ``rank`` below ``root_pid`` (torchrun's worker,
    not one of its dataloader processes, which inherit its environment)."""
    parent, env = {}, {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                parent[int(entry)] = int(f.read().rsplit(')', 1)[1].split()[1])
            with open(f'/proc/{entry}/environ', 'rb') as f:
                env[int(entry)] = f.read().split(b'\0')
        except OSError:  # ended meanwhile
            continue

    def below_root(pid):
        while pid in parent and pid != root_pid:
            pid = parent[pid]
        return pid == root_pid

    tag = f'RANK={rank}'.encode()
    found = [
        pid
        for pid, values in env.items()
        if tag in values and below_root(pid) and tag not in env.get(parent.get(pid), [])
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_a_killed_rank_is_restarted_and_ends_as_the_straight_run(straight, tmp_path):
    killed = tmp_path / 'killed'
    cmd, env = dist_train(killed, 3, RESTARTS='1')
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 180
    while 4 not in scalars(killed):  # rank 0 has finished iteration 4 of 9
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.time() < deadline, 'iteration 4 never came'
        time.sleep(0.01)
    os.kill(worker_pid(proc.pid, rank=1), signal.SIGKILL)
    # In the middle of epoch 2 (iterations 4-6): its checkpoint is not there.
    assert not (killed / 'epoch_2.pth').exists()
    assert (killed / 'epoch_1.pth').exists()

    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out[-3000:]  # finished by itself
    assert 'restart 1 by torchrun: resuming from' in run_logs(killed), out[-3000:]
    assert f'resuming from {killed / "epoch_1.pth"}' in run_logs(killed)
    assert len(glob.glob(f'{killed}/*/vis_data/scalars.json')) == 2  # two attempts

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
