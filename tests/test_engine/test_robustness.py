"""A long run must survive: bad images, NaNs, crashes while saving, bad
configs, pickled payloads, collapse."""

import glob
import io
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import DEMO_CONFIG, PHOTOS, REPO
from fault_injection import PoisonAt
from helpers import checkpoint_path, load_tool, tiny_config
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

from mmpixpro.datasets.transforms import LoadImageOrSkip
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.resume_checkpoint import (
    checkpoint_candidates,
    remove_stale_temp_files,
)

TRAIN = osp.join(REPO, 'tools', 'train.py')


def write_bad_folder(root) -> dict:
    """Four good photos plus every kind of awkward file."""
    os.makedirs(root, exist_ok=True)
    for name in ('chelsea.png', 'coffee.png', 'rocket.jpg', 'brick.png'):
        shutil.copy(osp.join(PHOTOS, name), root)
    photo = Image.open(osp.join(PHOTOS, 'coffee.png')).convert('RGB')
    jpeg = io.BytesIO()
    photo.save(jpeg, 'JPEG')
    files = {
        'valid': ['chelsea.png', 'coffee.png', 'rocket.jpg', 'brick.png'],
        'unreadable': ['zero.jpg', 'truncated.jpg', 'text.png'],
    }
    open(osp.join(root, 'zero.jpg'), 'wb').close()
    with open(osp.join(root, 'truncated.jpg'), 'wb') as f:
        f.write(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    with open(osp.join(root, 'text.png'), 'w') as f:
        f.write('not an image')
    photo.convert('CMYK').save(osp.join(root, 'cmyk.jpg'), 'JPEG')
    cv2.imwrite(
        osp.join(root, 'deep16.png'),
        (np.random.rand(60, 80, 3) * 65535).astype(np.uint16),
    )
    photo.convert('L').save(osp.join(root, 'gray.png'))
    photo.convert('P').save(osp.join(root, 'palette.png'))
    photo.convert('RGBA').save(osp.join(root, 'rgba.png'))
    photo.resize((5, 4)).save(osp.join(root, 'tiny.png'))
    files['valid'] += [
        'cmyk.jpg',
        'deep16.png',
        'gray.png',
        'palette.png',
        'rgba.png',
        'tiny.png',
    ]
    return files


def test_loader_converts_valid_files_and_skips_unreadable(tmp_path):
    files = write_bad_folder(str(tmp_path))
    load = LoadImageOrSkip()
    for name in files['valid']:
        out = load(dict(img_path=str(tmp_path / name)))
        assert out is not None, name
        assert out['img'].dtype == np.uint8 and out['img'].ndim == 3, name
        assert out['img'].shape[2] == 3, name
    for name in files['unreadable']:
        assert load(dict(img_path=str(tmp_path / name))) is None, name
    assert load(dict(img_path=str(tmp_path / 'missing.jpg'))) is None


def run_bad_folder(tmp_path, max_fraction):
    data = str(tmp_path / 'data')
    files = write_bad_folder(data)
    cfg = tiny_config(DEMO_CONFIG, tmp_path / 'work', data_root=data, max_epochs=2)
    cfg.train_dataloader.num_workers = 1  # decoding happens in a worker
    cfg.default_hooks.unreadable_images.max_fraction = max_fraction
    runner = Runner.from_cfg(cfg)
    return runner, files


def read_log(work_dir) -> str:
    return ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))


def test_training_skips_counts_and_logs_unreadable_images(tmp_path):
    runner, files = run_bad_folder(tmp_path, max_fraction=0.5)
    runner.train()
    assert runner.iter == 2 * (13 // 4)
    log = read_log(runner.work_dir)
    reported = {
        osp.basename(line.split('unreadable image skipped: ')[1].strip())
        for line in log.splitlines()
        if 'unreadable image skipped: ' in line
    }
    # Over two epochs every file is drawn: each unreadable one is reported once.
    assert reported == set(files['unreadable'])
    assert '3 of 13 images unreadable so far' in log


def test_too_many_unreadable_images_stop_training(tmp_path):
    runner, _ = run_bad_folder(tmp_path, max_fraction=0.1)
    with pytest.raises(
        RuntimeError, match=r'of 13 images are unreadable, more than max_fraction=0.1'
    ):
        runner.train()


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(tmp_path):
    cfg = tiny_config(DEMO_CONFIG, tmp_path, max_epochs=3)
    cfg.default_hooks.checkpoint.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.register_hook(PoisonAt(5))  # epoch 2, iteration 5
    with pytest.raises(
        FloatingPointError, match=r'iteration 5: loss=nan.*epoch_1.pth is intact'
    ):
        runner.train()
    assert checkpoint_path(str(tmp_path)).endswith('epoch_1.pth')
    state = torch.load(checkpoint_path(str(tmp_path)), weights_only=True)
    assert all(
        torch.isfinite(v).all()
        for v in state['state_dict'].values()
        if v.is_floating_point()
    )
    # ... and it resumes.
    cfg = tiny_config(DEMO_CONFIG, tmp_path, max_epochs=2)
    cfg.resume = True
    cfg.visualizer.name = 'resumed_after_nan'
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 6


# Writes 8 MiB to argv[2], killed by SIGKILL once the first MiB is on disk:
# the write call itself is patched (os.write for the atomic backend, the
# file's write for mmengine's plain one), so the kill comes at that byte.
WRITER = """
import builtins, os, signal, sys
from mmengine.fileio import LocalBackend
from mmengine.fileio.backends import local_backend
from mmpixpro.engine import AtomicLocalBackend

PART = 1 << 20


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if sys.argv[1] == 'atomic':
    real_write = os.write

    def write(fd, data):
        real_write(fd, memoryview(data)[:PART])
        die()

    os.write = write
    backend = AtomicLocalBackend()
else:
    class Dying:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(memoryview(data)[:PART])
            self.f.flush()
            die()

    local_backend.open = lambda *a, **k: Dying(builtins.open(*a, **k))
    backend = LocalBackend()
backend.put(b'n' * (8 << 20), sys.argv[2])
"""


def kill_while_writing(kind, target):
    result = subprocess.run(
        [sys.executable, '-c', WRITER, kind, str(target)], cwd=REPO, timeout=120
    )
    assert result.returncode == -signal.SIGKILL


def test_a_crash_while_saving_leaves_the_old_checkpoint(tmp_path):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old checkpoint')
    kill_while_writing('atomic', target)
    assert target.read_bytes() == b'old checkpoint'
    # SIGKILL leaves the partial temporary file; it is never taken for a
    # checkpoint and a resume in the folder removes it.
    (stale,) = glob.glob(str(tmp_path / '.epoch_1.pth.*.tmp'))
    assert osp.getsize(stale) == 1 << 20
    assert checkpoint_candidates(str(tmp_path)) == [str(target)]
    assert remove_stale_temp_files(str(tmp_path)) == [stale]
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']
    # What the atomic write prevents: mmengine's plain backend truncates it.
    kill_while_writing('plain', target)
    assert target.stat().st_size == 1 << 20


SELFSUP = osp.join(REPO, 'configs', 'selfsup')


@pytest.mark.parametrize(
    'name',
    sorted(
        osp.basename(p)
        for p in glob.glob(osp.join(SELFSUP, '*.py'))
        if not p.endswith('_demo.py')  # 2 min on CPU: checkpoints every 20 epochs
    ),
)
def test_pre_training_configs_checkpoint_every_epoch(name):
    cfg = Config.fromfile(osp.join(SELFSUP, name))
    hook = cfg.default_hooks.checkpoint
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert hook.interval == 1 and hook.get('by_epoch', True)  # lose <= 1 epoch
    # a few kept, at least two: one to fall back to when the newest is damaged
    assert 2 <= hook.max_keep_ckpts <= 5
    assert hook.save_last and hook.backend_args == dict(backend='atomic_local')


def test_checkpoints_are_saved_through_the_atomic_backend(tmp_path):
    cfg = tiny_config(DEMO_CONFIG, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'CheckpointHook')
    assert type(hook.file_backend).__name__ == 'AtomicLocalBackend'
    assert osp.isfile(checkpoint_path(str(tmp_path)))


class Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}',))


@pytest.mark.payload
def test_resume_refuses_a_checkpoint_that_would_run_code(tmp_path):
    marker = tmp_path / 'executed'
    evil = tmp_path / 'evil.pth'
    torch.save({'meta': {}, 'state_dict': {}, 'x': Payload(marker)}, evil)
    result = subprocess.run(
        [
            sys.executable,
            TRAIN,
            DEMO_CONFIG,
            '--work-dir',
            str(tmp_path / 'w'),
            '--resume',
            str(evil),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert 'which is code, not data: refused without running it' in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    'option, error, text',
    [
        (
            'train_dataloder.batch_size=2',
            KeyError,
            "'train_dataloder'.*'train_dataloader'",
        ),
        ('resume=3', TypeError, "'resume' must be bool"),
        ('train_dataloader.batch_size=two', TypeError, 'train_dataloader.batch_size'),
        ('default_hooks.checkpoint=5', TypeError, 'default_hooks.checkpoint'),
    ],
)
def test_config_typos_and_wrong_types_fail_at_start(tmp_path, option, error, text):
    train = load_tool('tools/train.py')
    with pytest.raises(error, match=text):
        train.main([DEMO_CONFIG, '--work-dir', str(tmp_path), '--cfg-options', option])


class Collapse(Hook):
    """Zero the last projector layer: every pixel gets the same feature."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        for net in (
            runner.model.projector,
            runner.model.target_net.module['projector'],
        ):
            with torch.no_grad():
                net.projector[1].weight.zero_()


def test_a_forced_collapse_is_reported(tmp_path):
    cfg = tiny_config(DEMO_CONFIG, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(Collapse())
    runner.train()
    log = read_log(runner.work_dir)
    assert 'pixel-feature spread 0.0000 < 0.05' in log and 'collapse' in log
    # and a healthy run does not warn
    cfg = tiny_config(DEMO_CONFIG, tmp_path / 'healthy')
    cfg.visualizer.name = 'healthy'
    healthy = Runner.from_cfg(cfg)
    healthy.train()
    assert 'pixel-feature spread' not in read_log(healthy.work_dir)


def test_the_unreadable_images_count_over_a_resumed_run(tmp_path):
    """Eight images, limit 15 % (1.2 images). The first start meets one
    unreadable file (a.png) in epoch 1; before the resume that file is
    repaired and another (b.png) broken. The resumed run counts both (the
    set travels in the checkpoint) and stops: since its latest start alone
    it would count one."""
    data = tmp_path / 'data'
    data.mkdir()
    photos = [n for n in sorted(os.listdir(PHOTOS)) if n.endswith('.png')][:6]
    for i, name in enumerate(photos):
        shutil.copy(osp.join(PHOTOS, name), data / f'{i}_{name}')
    shutil.copy(osp.join(PHOTOS, 'chelsea.png'), data / 'b.png')
    (data / 'a.png').write_bytes(b'')

    def runner_of(max_epochs, resume, name):
        cfg = tiny_config(
            DEMO_CONFIG, tmp_path / 'work', data_root=str(data), max_epochs=max_epochs
        )
        cfg.train_dataloader.num_workers = 0
        cfg.default_hooks.checkpoint.interval = 1
        cfg.default_hooks.unreadable_images.max_fraction = 0.15
        cfg.resume = resume
        cfg.visualizer.name = name
        return FaultTolerantRunner.from_cfg(cfg)  # as tools/train.py

    first = runner_of(1, False, 'first_start')
    first.train()
    state = torch.load(checkpoint_path(str(tmp_path / 'work')), weights_only=True)
    assert state['message_hub']['runtime_info']['unreadable_images'] == [
        str(data / 'a.png')
    ]

    shutil.copy(osp.join(PHOTOS, 'coffee.png'), data / 'a.png')
    (data / 'b.png').write_bytes(b'')
    resumed = runner_of(2, True, 'resumed_start')
    with pytest.raises(
        RuntimeError, match=r'2 of 8 images are unreadable, more than max_fraction=0.15'
    ):
        resumed.train()
    hook = next(h for h in resumed.hooks if type(h).__name__ == 'UnreadableImageHook')
    assert hook.skipped == {str(data / 'a.png'), str(data / 'b.png')}
