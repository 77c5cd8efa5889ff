"""Checkpoints we write are plain data with a digest of their tensors: they
load with plain ``torch.load(weights_only=True)`` in a process that never
imported mmpixpro, resume exactly, and a file whose tensor bytes changed is
named and skipped (resume) or refused (transfer). Importing mmpixpro changes
nothing in other libraries; older checkpoints still load."""

import io
import os.path as osp
import shutil
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch
from conftest import DEMO_CONFIG, REPO
from helpers import tiny_config
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

from mmpixpro.benchmarks import TransferError
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.engine.checkpoint_checks import CheckpointError
from mmpixpro.engine.checkpoint_digest import (
    add_digest,
    checkpoint_tensors,
    digest_problem,
)
from mmpixpro.engine.checkpoint_reader import read_checkpoint
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.hooks import PlainCheckpointHook
from mmpixpro.engine.resume_checkpoint import checkpoint_problem
from mmpixpro.testing import small_benchmark_config, toy_data

BENCH = osp.join(REPO, 'configs', 'benchmarks')
LINEAR = osp.join(
    BENCH, 'classification', 'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py'
)


def damage_tensor_data(path: str, nbytes: int = 1 << 20) -> str:
    """Zero up to ``nbytes`` inside the largest tensor record of a checkpoint
    in torch's zip format, in place: same sizes and offsets, so the archive
    stays valid (torch does not check the records' CRC). Returns the
    record's name."""
    with zipfile.ZipFile(path) as archive:
        records = [i for i in archive.infolist() if '/data/' in i.filename]
    record = max(records, key=lambda i: i.file_size)
    assert record.compress_type == zipfile.ZIP_STORED
    with open(path, 'r+b') as f:
        f.seek(record.header_offset + 26)  # the local header's name / extra sizes
        name_len, extra_len = struct.unpack('<HH', f.read(4))
        start = record.header_offset + 30 + name_len + extra_len
        size = min(nbytes, record.file_size)
        f.seek(start)
        assert f.read(size) != bytes(size)  # the zeros change something
        f.seek(start)
        f.write(bytes(size))
    return record.filename


def plain_load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def test_a_damaged_tensor_is_skipped_on_resume_and_refused_by_transfer(
    tmp_path, photos
):
    work_dir = tmp_path / 'run'

    def train(epochs, **updates):
        cfg = tiny_config(
            DEMO_CONFIG, str(work_dir), max_epochs=epochs, data_root=photos
        )
        cfg.default_hooks.checkpoint.interval = 1
        cfg.merge_from_dict(updates)
        runner = FaultTolerantRunner.from_cfg(cfg)
        runner.train()
        return runner

    train(2)
    newest = str(work_dir / 'epoch_2.pth')
    intact = dict(checkpoint_tensors(plain_load(newest)))
    damage_tensor_data(newest)
    damaged = str(tmp_path / 'damaged.pth')
    shutil.copy(newest, damaged)
    # torch alone loads it, one tensor silently changed.
    now = dict(checkpoint_tensors(plain_load(newest)))
    assert now.keys() == intact.keys()
    assert len([k for k, v in now.items() if not torch.equal(v, intact[k])]) == 1
    problem = checkpoint_problem(newest)
    assert problem.startswith(
        'does not load (digest mismatch: its tensors do not match the SHA-256 '
        "digest it was written with (meta['tensor_sha256'])"
    )
    # Resume: named and skipped like any damaged file (epoch 2 again).
    runner = train(2, resume=True)
    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    assert f'damaged checkpoint skipped: {newest}: {problem}' in log
    assert f'resume: resuming from {work_dir / "epoch_1.pth"}' in log
    assert runner.iter == 2
    # Transfer: refused in one line naming the file, before any training.
    root = toy_data.make_imagenet(str(tmp_path / 'imagenet'))
    cfg = small_benchmark_config(Config.fromfile(LINEAR), root, 72, iters=1)
    cfg.work_dir = str(tmp_path / 'linear')
    cfg.load_from = damaged
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError) as info:
        runner.train()
    message = str(info.value)
    assert message.startswith(f"cannot load '{damaged}': its tensors do not match")
    assert '\n' not in message
    assert runner.iter == 0


PLAIN_TORCH = """
import sys, torch
ckpt = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
assert not [m for m in sys.modules if m.split('.')[0] in ('mmengine', 'mmpixpro')]
print(sorted(ckpt), ckpt['meta']['tensor_sha256'])
"""


def run_plain_torch(path):
    return subprocess.run(
        [sys.executable, '-c', PLAIN_TORCH, path],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_our_checkpoints_load_with_plain_torch_and_resume_exactly(
    demo_checkpoint, tmp_path
):
    # Pre-training (mmengine's Runner, the demo config).
    result = run_plain_torch(demo_checkpoint)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'message_hub', 'meta', 'optimizer'" in result.stdout
    # Fine-tuning in mmpretrain's Runner with a benchmark config, resumed.
    root = toy_data.make_imagenet(str(tmp_path / 'imagenet'))

    def finetune(iters, resume=False):
        cfg = small_benchmark_config(Config.fromfile(LINEAR), root, 72, iters=iters)
        find_hook_cfg(cfg).checkpoint = demo_checkpoint
        cfg.work_dir = str(tmp_path / 'linear')
        cfg.visualizer.name = f'visualizer_{tmp_path.name}_{iters}'  # a fresh one
        cfg.resume = resume
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner

    first = finetune(1)
    losses = first.message_hub.get_scalar('train/loss').data[0].copy()
    checkpoint = str(tmp_path / 'linear' / 'iter_1.pth')
    result = run_plain_torch(checkpoint)
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = finetune(2, resume=True)
    assert resumed.iter == 2
    history = resumed.message_hub.get_scalar('train/loss').data[0]
    assert isinstance(resumed.message_hub.get_scalar('train/loss'), HistoryBuffer)
    assert len(history) == 2 and history[0] == losses[0]  # carried over exactly


def test_plain_data_turns_back_into_what_mmengine_wrote():
    live = [np.float32(0.5), 2]  # a scheduler's own list: must not change
    buffer = HistoryBuffer([1.0, 2.5], [1, 2], max_length=7)
    checkpoint = {
        'meta': {'epoch': 1},
        'state_dict': {'w': torch.ones(2)},
        'message_hub': {
            'log_scalars': {'train/loss': buffer},
            'runtime_info': {'eta': np.float64(1.25), 'pair': (np.arange(3), 'x')},
        },
        'param_schedulers': [{'base_values': live}],
    }
    hook = PlainCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    assert live[0].dtype == np.float32 and isinstance(live[0], np.float32)
    f = io.BytesIO()
    torch.save(checkpoint, f)
    f.seek(0)
    loaded = torch.load(f, weights_only=True)  # nothing but plain data
    assert digest_problem(loaded) is None
    hook.after_load_checkpoint(None, loaded)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer) and restored.max_length == 7
    for got, want in zip(restored.data, buffer.data):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    eta = loaded['message_hub']['runtime_info']['eta']
    assert type(eta) is np.float64 and eta == 1.25
    pair = loaded['message_hub']['runtime_info']['pair']
    assert isinstance(pair, tuple) and np.array_equal(pair[0], np.arange(3))
    base = loaded['param_schedulers'][0]['base_values']
    assert type(base[0]) is np.float32 and base == [0.5, 2]
    assert 'plain_data' not in loaded['meta']


def test_the_digest_covers_values_names_and_shapes():
    checkpoint = {
        'meta': {},
        'state_dict': {'a': torch.arange(4.0), 'b': torch.ones(2)},
    }
    add_digest(checkpoint)
    assert digest_problem(checkpoint) is None
    for change in (
        lambda c: c['state_dict']['a'].__setitem__(0, 9.0),
        lambda c: c['state_dict'].__setitem__('c', c['state_dict'].pop('b')),
        lambda c: c['state_dict'].__setitem__('a', c['state_dict']['a'].view(2, 2)),
        lambda c: c.__setitem__('extra', torch.zeros(1)),
    ):
        changed = {
            'meta': dict(checkpoint['meta']),
            'state_dict': {k: v.clone() for k, v in checkpoint['state_dict'].items()},
        }
        change(changed)
        assert digest_problem(changed).startswith('its tensors do not match')


def test_a_file_changed_after_it_was_read_is_checked_again(tmp_path):
    """The reader does not hash a file again while it is unchanged; one
    changed in place is."""
    path = str(tmp_path / 'ckpt.pth')
    checkpoint = {'meta': {}, 'state_dict': {'w': torch.arange(1000.0)}}
    add_digest(checkpoint)
    torch.save(checkpoint, path)
    assert torch.equal(read_checkpoint(path)['state_dict']['w'], torch.arange(1000.0))
    time.sleep(0.05)  # past the file system's timestamp granularity
    damage_tensor_data(path, nbytes=16)
    with pytest.raises(CheckpointError, match='do not match the SHA-256 digest'):
        read_checkpoint(path)


def test_mmengines_own_checkpoints_load_and_getattr_stays_refused(tmp_path):
    """mmengine's Runner without PlainCheckpointHook pickles a HistoryBuffer
    with its statistics functions (``getattr(HistoryBuffer, 'mean')``): it
    loads, mmengine's class untouched; ``getattr`` on anything else is
    refused in one line."""
    stock = tmp_path / 'stock.pth'
    buffer = HistoryBuffer([0.5, 1.5], [1, 1])
    statistics = dict(HistoryBuffer._statistics_methods)  # filled by __init__
    torch.save({'message_hub': {'log_scalars': {'loss': buffer}}}, stock)
    loaded = read_checkpoint(str(stock))['message_hub']['log_scalars']['loss']
    assert isinstance(loaded, HistoryBuffer) and loaded.mean() == 1.0
    assert HistoryBuffer._statistics_methods == statistics
    other = tmp_path / 'other.pth'
    torch.save({'f': np.ndarray.tofile}, other)  # getattr(numpy.ndarray, ...)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(str(other))
    assert str(info.value).startswith(
        f'cannot load {other}: it holds builtins.getattr, which is code'
    )


def test_older_checkpoints_load_without_touching_mmengine(tmp_path, monkeypatch):
    """A checkpoint of the former format (HistoryBuffer objects and numpy,
    no digest) loads; the state of its HistoryBuffer is only recorded, so a
    file naming 'statistics methods' cannot change mmengine's class."""
    HistoryBuffer()  # its __init__ fills the class-wide table
    statistics = dict(HistoryBuffer._statistics_methods)
    old = tmp_path / 'old.pth'
    with monkeypatch.context() as m:  # what such a file holds
        m.setattr(
            HistoryBuffer,
            '__getstate__',
            lambda self: dict(self.__dict__, statistics_methods={'mean': 'text'}),
        )
        torch.save(
            {
                'meta': {'epoch': 1, 'iter': 1},
                'state_dict': {'w': torch.ones(1)},
                'message_hub': {
                    'log_scalars': {'loss': HistoryBuffer([0.5, 1.5], [1, 1])},
                    'runtime_info': {'eta': np.float64(3.0)},
                    'resumed_keys': {'loss': True},
                },
            },
            old,
        )
    with pytest.raises(Exception, match='HistoryBuffer'):
        plain_load(old)  # torch alone refuses it
    allowed = set(torch.serialization.get_safe_globals())
    loaded = read_checkpoint(str(old))
    buffer = loaded['message_hub']['log_scalars']['loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.mean() == 1.0
    assert loaded['message_hub']['runtime_info']['eta'] == 3.0
    assert HistoryBuffer._statistics_methods == statistics
    assert set(torch.serialization.get_safe_globals()) == allowed
    assert checkpoint_problem(str(old)) is None  # a resume candidate


def test_importing_mmpixpro_changes_nothing_in_other_libraries():
    """mmengine's HistoryBuffer, torch's allowed types and mmengine's
    checkpoint loaders are as before ``import mmpixpro`` (and its parts);
    only the module that configs name for it changes the loaders."""
    script = """
import torch
import torch._dynamo  # torch allows a type of its own when this is imported
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

def state():
    return (
        HistoryBuffer.__getstate__, HistoryBuffer.__setstate__,
        set(torch.serialization.get_safe_globals()), dict(CheckpointLoader._schemes),
    )

before = state()
import mmpixpro, mmpixpro.engine, mmpixpro.benchmarks, mmpixpro.apis
from mmpixpro.utils import register_all_modules
register_all_modules()
assert state() == before, (before, state())
import mmpixpro.engine.safe_checkpoint_loading
assert state()[3] != before[3]
print('ok')
"""
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0 and 'ok' in result.stdout, result.stderr[-3000:]


def test_a_refused_file_is_one_line(tmp_path):
    path = tmp_path / 'code.pth'
    torch.save({'f': print}, path)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(str(path))
    assert '\n' not in str(info.value)
    assert str(info.value).startswith(f'cannot load {path}: it holds ')
