"""What a checkpoint or a second run may not do: run code, share a work dir,
clobber the last run's records; and the one-line errors at start.

The runs are tiny (demo config, four photos, one iteration an epoch)."""

import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import load_tool, tiny_config
from mmengine.config import Config

from mmpixpro.engine.config_check import check_config
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.run_args import merge_run_args
from mmpixpro.engine.work_dir_lock import LOCK_NAME, WorkDirBusyError, WorkDirLock
from mmpixpro.utils.setup_env import register_all_modules

TRAIN = osp.join(REPO, 'tools', 'train.py')


def config(work_dir, photos, epochs=1, **updates):
    cfg = tiny_config(DEMO_CONFIG, str(work_dir), max_epochs=epochs, data_root=photos)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.merge_from_dict(updates)
    return cfg


def train(work_dir, photos, epochs=1, **updates):
    runner = FaultTolerantRunner.from_cfg(config(work_dir, photos, epochs, **updates))
    runner.train()
    return runner


def log_of(runner):
    return open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()


def payload(marker):
    """Config text that, executed, writes ``marker``."""
    return f'x = __import__("pathlib").Path({str(marker)!r}).write_text("ran")\n'


def test_a_checkpoint_config_is_never_executed(tmp_path, photos):
    work_dir = tmp_path / 'run'
    train(work_dir, photos, epochs=1)
    ckpt = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    # The payload is live: mmengine's parser runs it (what Runner.resume does).
    probe = tmp_path / 'probe'
    Config.fromstring(payload(probe), file_format='.py')
    assert probe.read_text() == 'ran'
    marker = tmp_path / 'marker'
    ckpt['meta']['config'] = payload(marker)  # plain text: weights_only loads it
    torch.save(ckpt, work_dir / 'epoch_1.pth')
    # A bare --resume finds it in the work dir, as a restarted worker would.
    runner = train(work_dir, photos, epochs=2, resume=True)
    assert runner.iter == 2 and not marker.exists()
    assert "meta['config'] ignored: a checkpoint is data" in log_of(runner)
    # --resume FILE: the same.
    torch.save(ckpt, tmp_path / 'named.pth')
    runner = train(
        tmp_path / 'named',
        photos,
        epochs=2,
        resume=True,
        load_from=str(tmp_path / 'named.pth'),
    )
    assert runner.iter == 2 and not marker.exists()


def test_resume_takes_the_latest_step_not_the_latest_time(tmp_path, photos):
    work_dir = tmp_path / 'run'
    train(work_dir, photos, epochs=2)
    os.utime(work_dir / 'epoch_1.pth')  # touched after epoch 2 was written
    os.unlink(work_dir / 'last_checkpoint')  # as a copy without it
    runner = train(work_dir, photos, epochs=3, resume=True)
    assert runner.iter == 3
    assert f'resume: resuming from {work_dir / "epoch_2.pth"}' in log_of(runner)


def test_a_failed_start_leaves_the_last_runs_config_dump(tmp_path, photos):
    cfg = config(tmp_path, photos)
    dump = tmp_path / osp.basename(cfg.filename)
    dump.write_text('# the last real run\n')
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'')
    cfg.merge_from_dict(dict(resume=True, load_from=str(bad)))
    with pytest.raises(RuntimeError, match=rf'cannot resume from {bad}: empty'):
        FaultTolerantRunner.from_cfg(cfg).train()
    assert dump.read_text() == '# the last real run\n'
    # A run that starts writes it (atomically: no temporary file left).
    runner = train(tmp_path, photos)
    assert Config.fromfile(str(dump)).model.type == 'PixPro'
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
    assert runner.iter == 1


def test_a_second_run_on_a_live_work_dir_stops_at_once(tmp_path, photos):
    cfg = config(tmp_path / 'run', photos)
    cfg_file = tmp_path / 'tiny.py'
    cfg.dump(str(cfg_file))
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    pending = work_dir / '.epoch_2.pth.mmpixpro-0a1b2c3d4e5f.tmp'  # the live run's
    pending.write_bytes(b'half a checkpoint')
    dump = work_dir / 'tiny.py'
    dump.write_text('# the live run\n')
    with WorkDirLock(str(work_dir)):  # this process is the live run
        result = subprocess.run(
            [
                sys.executable,
                TRAIN,
                str(cfg_file),
                '--work-dir',
                str(work_dir),
                '--resume',
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode != 0
    assert 'is in use by another run' in result.stderr, result.stderr[-2000:]
    assert f'pid {os.getpid()} on host' in result.stderr
    assert pending.read_bytes() == b'half a checkpoint'
    assert dump.read_text() == '# the live run\n'
    assert sorted(os.listdir(work_dir)) == sorted([LOCK_NAME, pending.name, 'tiny.py'])


def test_the_lock_of_a_killed_run_is_free_at_once(tmp_path):
    code = (
        'import os, signal, sys; sys.path.insert(0, sys.argv[2]);'
        'from mmpixpro.engine.work_dir_lock import WorkDirLock;'
        'lock = WorkDirLock(sys.argv[1]).acquire(); print("held", flush=True);'
        'os.kill(os.getpid(), signal.SIGKILL)'
    )
    result = subprocess.run(
        [sys.executable, '-c', code, str(tmp_path), REPO],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL and 'held' in result.stdout
    with WorkDirLock(str(tmp_path)) as lock:
        assert lock.held
    # While a child holds it, this process is refused, naming the child.
    child = subprocess.Popen(
        [
            sys.executable,
            '-c',
            code.replace('os.kill(os.getpid(), signal.SIGKILL)', 'sys.stdin.read()'),
            str(tmp_path),
            REPO,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == 'held'
        with pytest.raises(WorkDirBusyError, match=f'pid {child.pid} on host'):
            WorkDirLock(str(tmp_path)).acquire()
    finally:
        child.communicate('', timeout=60)


def test_load_from_of_another_architecture_stops_listing_the_tensors(tmp_path, photos):
    register_all_modules(init_default_scope=False)
    from mmpixpro.registry import MODELS

    other = config(tmp_path, photos)
    other.model.backbone.depth = 34  # same widths, more blocks
    ckpt = tmp_path / 'r34.pth'
    torch.save({'meta': {}, 'state_dict': MODELS.build(other.model).state_dict()}, ckpt)
    with pytest.raises(RuntimeError) as info:
        train(tmp_path / 'strict', photos, load_from=str(ckpt))
    message = str(info.value)
    assert message.startswith(f'load_from {ckpt} does not fit the model of this config')
    assert 'unexpected: backbone.layer1.2.' in message
    assert 'load_from_strict = False' in message
    # The config says otherwise: the tensors that fit are loaded.
    cfg = config(
        tmp_path / 'loose', photos, load_from=str(ckpt), load_from_strict=False
    )
    check_config(cfg)  # a key of its own, not a near-miss of `load_from`
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1


def parse(*argv):
    return load_tool('tools/train.py').parse_args([DEMO_CONFIG, *argv])


@pytest.mark.parametrize(
    'option, error, message',
    [
        (
            'model.head.pos_threshold=abc',
            TypeError,
            'model.head.pos_threshold=abc: the config has model.head.pos_threshold=0.7',
        ),
        ('train_cfg.max_epochs=0', ValueError, 'train_cfg.max_epochs=0 would train'),
        (
            'model.backbone.zero_init_residual=maybe',
            TypeError,
            'zero_init_residual=maybe: the config has .*=True; give True or False',
        ),
    ],
)
def test_bad_options_are_one_line_naming_the_key(option, error, message):
    args = parse('--cfg-options', option)
    with pytest.raises(error, match=message) as info:
        merge_run_args(Config.fromfile(DEMO_CONFIG), args)
    assert '\n' not in str(info.value)
