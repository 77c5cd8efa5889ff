"""The work dir's lock: one per process, held by inode, every rank of a
refused run told (torchrun and slurm), refused starts not retried by
torchrun's restarts, and ``--force-unlock`` for a lock a crashed node left."""

import contextlib
import fcntl
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import DEMO_CONFIG, REPO
from helpers import load_tool, tiny_config
from mmengine.hooks import Hook
from test_multiprocess_faults import dist_train, free_port

from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.refused_start import note_path, refusal_before, remember_refusal
from mmpixpro.engine.run_args import merge_run_args
from mmpixpro.engine.stale_lock import alive_here, force_acquire
from mmpixpro.engine.work_dir_lock import (
    LOCK_NAME,
    WorkDirBusyError,
    WorkDirLock,
    WorkDirLockLostError,
)

TRAIN = osp.join(REPO, 'tools', 'train.py')


class Holder:
    """Another live process holding the lock of ``work_dir`` (forked: it
    starts at once): :meth:`finish` has it check that its lock file is still
    the one it locked, and returns what the check said."""

    def __init__(self, work_dir):
        ready, self._ready = os.pipe()
        self._go, go = os.pipe()
        self._said, said = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the holder: file operations only, then _exit
            status = 1
            try:
                lock = WorkDirLock(str(work_dir)).acquire()
                os.write(self._ready, b'held')
                os.read(self._go, 1)
                try:
                    lock.check()
                    os.write(said, b'still held')
                except WorkDirLockLostError as e:
                    os.write(said, f'{type(e).__name__}: {e}'.encode())
                status = 0
            finally:
                os._exit(status)
        assert os.read(ready, 4) == b'held'
        self._tell, self._hear = go, self._said

    def finish(self) -> str:
        os.write(self._tell, b'.')
        said = os.read(self._hear, 1 << 12).decode()
        os.waitpid(self.pid, 0)
        return said


def locked_elsewhere(path) -> bool:
    """Whether another process (forked now) is refused the lock of ``path``."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os._exit(0)
        except OSError:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 1


def rewrite_holder(work_dir, **fields):
    """Make the lock file's record say ``fields`` (a crashed node's, a dead
    pid's); this process never holds that lock, so closing is harmless."""
    path = osp.join(work_dir, LOCK_NAME)
    with open(path) as f:
        record = dict(json.load(f), **fields)
    with open(path, 'r+') as f:
        f.write(json.dumps(record))
        f.truncate()


def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def inode(path):
    return os.lstat(path).st_ino


def test_a_second_lock_in_the_same_process_raises(tmp_path):
    work_dir = tmp_path / 'run'
    alias = tmp_path / 'alias'  # the same folder through a link
    first = WorkDirLock(str(work_dir)).acquire()
    os.symlink(str(work_dir), str(alias))
    try:
        for path in (str(work_dir), f'{work_dir}/.', str(alias)):
            with pytest.raises(WorkDirBusyError) as info:
                WorkDirLock(path).acquire()
            assert str(info.value).startswith(
                f'work dir {path} is already held by this process (pid {os.getpid()}'
            )
            assert '\n' not in str(info.value)
        with pytest.raises(WorkDirBusyError, match='already held by this process'):
            first.acquire()
        assert locked_elsewhere(first.path)  # the first lock still holds
    finally:
        first.release()
    assert not locked_elsewhere(first.path)
    with WorkDirLock(str(alias)) as again:  # released: taken again
        assert again.held


def replace_with_another_file(path):
    with open(f'{path}.new', 'w') as f:
        f.write('{}')
    os.replace(f'{path}.new', path)


def lost(work_dir, how):
    return (
        f'the lock file {work_dir / LOCK_NAME} of this run was {how}: another '
        f'run may now hold {work_dir}, so this run stops before writing there '
        'again; make sure no other run uses it, then resume (--resume)'
    )


@pytest.mark.parametrize('how', ['deleted', 'replaced by another file'])
def test_the_lock_is_held_by_inode(tmp_path, how):
    with WorkDirLock(str(tmp_path)) as lock:
        lock.check()  # its own file: nothing to say
        if how == 'deleted':
            os.unlink(lock.path)
        else:
            replace_with_another_file(lock.path)
        with pytest.raises(WorkDirLockLostError) as info:
            lock.check()
        assert str(info.value) == lost(tmp_path, how)


class ReplaceLockFileAfterEpoch1(Hook):
    """After epoch 1 is checkpointed, another file takes the lock file's
    name (as a second run would lock it)."""

    priority = 'LOWEST'

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == 1:
            replace_with_another_file(osp.join(runner.work_dir, LOCK_NAME))


def test_a_replaced_lock_file_stops_the_run_at_the_next_checkpoint(tmp_path, photos):
    cfg = tiny_config(DEMO_CONFIG, str(tmp_path), max_epochs=2, data_root=photos)
    cfg.default_hooks.checkpoint.interval = 1
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.register_hook(ReplaceLockFileAfterEpoch1())
    with pytest.raises(WorkDirLockLostError) as info:
        runner.train()
    assert str(info.value) == lost(tmp_path, 'replaced by another file')
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']
    assert runner.iter == 2  # epoch 2 trained, its checkpoint not written


def test_the_holder_is_alive_only_as_a_live_pid_of_this_host():
    host = socket.gethostname()
    assert alive_here(dict(host=host, pid=os.getpid()))
    assert not alive_here(dict(host=host, pid=dead_pid()))
    assert not alive_here(dict(host='crashed-node', pid=os.getpid()))
    assert not alive_here({})  # a lock file that names no holder


def test_force_unlock_refuses_a_live_holder_and_takes_over_a_gone_one(tmp_path):
    # The holder stands for a run on a node that crashed: its lock is still
    # held (as the NFS server keeps it) and its record names it.
    holder = Holder(tmp_path)
    before = inode(tmp_path / LOCK_NAME)
    with pytest.raises(WorkDirBusyError) as info:
        force_acquire(WorkDirLock(str(tmp_path)), print)
    message = str(info.value)
    assert message.startswith(
        f'--force-unlock refused: work dir {tmp_path} is held by a live process '
        f'on this host, pid {holder.pid} on host {socket.gethostname()}'
    )
    assert '\n' not in message
    assert inode(tmp_path / LOCK_NAME) == before  # untouched, still held
    # Its record now names the crashed node: taken over.
    rewrite_holder(tmp_path, host='crashed-node')
    said = []
    lock = force_acquire(WorkDirLock(str(tmp_path)), said.append)
    try:
        assert lock.held and inode(lock.path) != before
        assert len(said) == 1 and said[0].startswith(
            f'--force-unlock: removed {lock.path} of pid {holder.pid} on host '
            'crashed-node'
        )
        assert said[0].endswith(
            '(not alive on this host); should that run be alive elsewhere, it '
            'stops at its next checkpoint'
        )
    finally:
        lock.release()
    # Had that run been alive after all: it notices at its next check.
    assert holder.finish() == 'WorkDirLockLostError: ' + lost(
        tmp_path, 'replaced by another file'
    )


def test_train_py_force_unlock_at_a_fresh_start_only(tmp_path, photos, monkeypatch):
    args = load_tool('tools/train.py').parse_args(
        [DEMO_CONFIG, '--work-dir', str(tmp_path), '--force-unlock']
    )
    cfg = tiny_config(DEMO_CONFIG, str(tmp_path), data_root=photos)
    cfg = merge_run_args(cfg, args)
    assert cfg.force_unlock is True
    holder = Holder(tmp_path)
    rewrite_holder(tmp_path, pid=dead_pid())  # a pid of this host, dead
    # A worker that torchrun restarts never forces: it is refused.
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    with pytest.raises(WorkDirBusyError, match='is in use by another run'):
        FaultTolerantRunner.from_cfg(cfg)
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    assert f'--force-unlock: removed {tmp_path / LOCK_NAME} of pid ' in log
    assert holder.finish().startswith('WorkDirLockLostError: ')


def test_a_refusal_is_remembered_for_this_torchrun_agent_only(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCHELASTIC_RUN_ID', f'job-{tmp_path.name}')
    work_dir = str(tmp_path)
    assert refusal_before(work_dir, restarts=1) is None
    busy = 'work dir X is in use by another run, pid 1'
    remember_refusal(work_dir, busy)
    try:
        assert os.listdir(work_dir) == []  # nothing in the busy work dir
        assert refusal_before(work_dir, 1) == busy
        assert refusal_before(str(tmp_path / 'other'), 1) is None
        monkeypatch.setenv('TORCHELASTIC_RUN_ID', 'another job')
        assert refusal_before(work_dir, 1) is None
        monkeypatch.setenv('TORCHELASTIC_RUN_ID', f'job-{tmp_path.name}')
        assert refusal_before(work_dir, 0) is None  # a fresh start removes it
        assert refusal_before(work_dir, 1) is None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(note_path(work_dir))


def busy_line(work_dir):
    return (
        f'work dir {work_dir} is in use by another run, '
        f'pid {os.getpid()} on host {socket.gethostname()}'
    )


@pytest.mark.slow
def test_a_busy_work_dir_stops_both_torchrun_ranks_and_their_restarts(tmp_path):
    """Two gloo workers (torchrun, RESTARTS=1) on a work dir this process
    holds: both ranks stop with the line naming the holder; the holder then
    ends, and the restart still stops at once instead of taking its work
    dir over; nothing is written into the work dir."""
    work_dir = tmp_path / 'held'
    lock = WorkDirLock(str(work_dir)).acquire()
    cmd, env = dist_train(work_dir, 1, RESTARTS='1')
    env['PET_TEE'] = '3'  # torchrun prefixes each worker's lines: [default0]:
    # torchrun stops the other workers 0.1 s after the first one exits; both
    # ranks stop on their own here, and each one's line is to be seen.
    env['PET_MONITOR_INTERVAL'] = '3'
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    lines, refused, released = [], set(), None
    try:
        for line in proc.stdout:
            lines.append(line)
            for rank in (0, 1):
                if line.startswith(f'[default{rank}]:') and busy_line(work_dir) in line:
                    refused.add(rank)
            if refused == {0, 1} and released is None:
                lock.release()  # the holder ends before the restart starts
                released = time.monotonic() - start
        proc.wait()
    finally:
        watchdog.cancel()
        lock.release()
    out = ''.join(lines)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert refused == {0, 1}, out[-4000:]
    assert released is not None
    for rank in (0, 1):
        stopped = [
            line for line in lines
            if line.startswith(f'[default{rank}]:')
            and 'restart 1 by torchrun stops at once, as the '
            f'first attempt did: work dir {work_dir} is in use' in line
        ]  # fmt: skip
        assert stopped, out[-4000:]
    assert os.listdir(work_dir) == [LOCK_NAME]  # no log, record or checkpoint
    print(f'refused on both ranks after {released:.1f} s; all done in {elapsed:.1f} s')


@pytest.mark.slow
def test_a_busy_work_dir_stops_every_slurm_task(tmp_path):
    """Two tasks as srun starts them (slurm's variables, --launcher slurm):
    both stop within seconds of each other, each naming the holder."""
    work_dir = tmp_path / 'held'
    port = free_port()
    procs, ends = [], {}
    with WorkDirLock(str(work_dir)):
        for rank in (0, 1):
            env = dict(
                os.environ,
                SLURM_PROCID=str(rank),
                SLURM_LOCALID=str(rank),
                SLURM_NTASKS='2',
                SLURM_NODELIST='localhost',
                MASTER_ADDR='127.0.0.1',
                MASTER_PORT=str(port),
                OMP_NUM_THREADS='1',
            )
            cmd = [sys.executable, TRAIN, DEMO_CONFIG, '--work-dir', str(work_dir),
                   '--launcher', 'slurm']  # fmt: skip
            procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
            )
        start = time.monotonic()
        deadline = start + 240
        while len(ends) < 2 and time.monotonic() < deadline:
            for rank, proc in enumerate(procs):
                if rank not in ends and proc.poll() is not None:
                    ends[rank] = time.monotonic() - start
            time.sleep(0.1)
        for proc in procs:
            proc.kill()
        outputs = [proc.communicate()[1] for proc in procs]
    assert sorted(ends) == [0, 1], (ends, [o[-2000:] for o in outputs])
    assert abs(ends[0] - ends[1]) < 10, ends
    for rank, (proc, err) in enumerate(zip(procs, outputs)):
        assert proc.returncode not in (0, None), rank
        assert busy_line(work_dir) in err, err[-3000:]
    print(f'slurm tasks stopped after {ends[0]:.1f} s and {ends[1]:.1f} s')
