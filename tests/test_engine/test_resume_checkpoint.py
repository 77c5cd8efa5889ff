"""Choosing the checkpoint to resume from, writes that fail, and the Runner
that resumes after a torchrun restart (one process, tiny configs)."""

import errno
import os
import os.path as osp
import shutil

import pytest
import torch
from conftest import DEMO_CONFIG
from helpers import tiny_config

from mmpixpro.engine.atomic_backend import AtomicLocalBackend
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.resume_checkpoint import (
    checkpoint_candidates,
    checkpoint_problem,
    ensure_room_for,
    newest_loadable_checkpoint,
    remove_stale_temp_files,
)
from mmpixpro.utils.atomic_file import temp_path


def touch(path, mtime, data=b'x'):
    with open(path, 'wb') as f:
        f.write(data)
    os.utime(path, (mtime, mtime))
    return str(path)


def save_checkpoint(path, mtime=None):
    meta = {'epoch': 1, 'iter': 1}
    torch.save({'meta': meta, 'state_dict': {'w': torch.ones(3)}}, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return str(path)


def test_candidates_are_the_last_saved_then_by_step_whatever_the_times(tmp_path):
    # Times as after a copy without them or a `touch`: they must not matter.
    e1 = touch(tmp_path / 'epoch_1.pth', 9000)
    e2 = touch(tmp_path / 'epoch_2.pth', 1000)
    e3 = touch(tmp_path / 'epoch_3.pth', 5000)
    old_run = touch(tmp_path / 'epoch_40.pth', 1)  # an earlier, longer run
    touch(tmp_path / 'best_loss_epoch_9.pth', 9000)
    touch(tmp_path / '.epoch_4.pth.1a2b.tmp', 9000)
    touch(tmp_path / 'epoch_4.pth.bak', 9000)
    (tmp_path / 'last_checkpoint').write_text(e3)
    assert checkpoint_candidates(str(tmp_path)) == [e3, old_run, e2, e1]
    # A damaged last_checkpoint is a hint that names nothing.
    (tmp_path / 'last_checkpoint').write_bytes(b'\xff\x00/trunc')
    assert checkpoint_candidates(str(tmp_path)) == [old_run, e3, e2, e1]


def test_candidates_follow_last_checkpoint_to_another_folder(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    there = touch(out / 'iter_500.pth', 2000)
    here = touch(tmp_path / 'iter_400.pth', 1000)
    (tmp_path / 'last_checkpoint').write_text(there + '\n')
    assert checkpoint_candidates(str(tmp_path)) == [there, here]
    (tmp_path / 'last_checkpoint').write_text('')  # emptied: ignored
    assert checkpoint_candidates(str(tmp_path)) == [here]


def test_each_kind_of_damage_is_named(tmp_path):
    good = save_checkpoint(tmp_path / 'good.pth')
    assert checkpoint_problem(good) is None
    data = open(good, 'rb').read()
    cases = {
        'missing.pth': None,
        'zero.pth': b'',
        'truncated.pth': data[: len(data) // 2],
        'text.pth': b'not a checkpoint\n',
    }
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    torch.save({'w': torch.ones(2)}, tmp_path / 'weights_only.pth')
    torch.save({'meta': {}, 'state_dict': {}, 'f': os.system}, tmp_path / 'code.pth')

    def problem(name):
        return checkpoint_problem(str(tmp_path / name))

    assert problem('missing.pth') == 'no such file'
    assert problem('zero.pth') == 'empty (0 bytes)'
    assert problem('truncated.pth') == (
        'does not load (RuntimeError: not a complete PyTorch file (truncated '
        'or damaged))'
    )
    assert problem('text.pth').startswith('does not load (UnpicklingError: ')
    assert problem('weights_only.pth') == (
        'not a training checkpoint (no meta / state_dict)'
    )
    # The refused global is named (torch's own first line only advises
    # turning weights_only off).
    assert problem('code.pth').startswith(
        'does not load (UnpicklingError: it holds posix.system, which is code'
    )
    torch.save({'meta': {}, 'state_dict': {}}, tmp_path / 'converted.pth')
    assert problem('converted.pth').startswith(
        'not a training checkpoint of a Runner (its meta has no epoch / iter'
    )
    assert 'use load_from (--cfg-options load_from=FILE), not --resume' in (
        problem('converted.pth')
    )


def test_the_newest_loadable_is_taken_and_the_damaged_reported(tmp_path):
    older = save_checkpoint(tmp_path / 'epoch_1.pth', 1000)
    newest = touch(tmp_path / 'epoch_2.pth', 2000, data=b'')
    warnings = []
    assert newest_loadable_checkpoint(str(tmp_path), warnings.append) == older
    assert warnings == [f'damaged checkpoint skipped: {newest}: empty (0 bytes)']


def test_nothing_loadable_is_an_error_listing_what_was_tried(tmp_path):
    zero = touch(tmp_path / 'epoch_2.pth', 2000, data=b'')
    text = touch(tmp_path / 'epoch_1.pth', 1000, data=b'text')
    with pytest.raises(RuntimeError) as info:
        newest_loadable_checkpoint(str(tmp_path), lambda _: None)
    message = str(info.value)
    assert message.startswith(f'no checkpoint in {tmp_path} can be resumed from')
    assert f'  {zero}: empty (0 bytes)' in message
    assert f'  {text}: does not load (' in message
    assert message.index(zero) < message.index(text)  # newest first
    assert newest_loadable_checkpoint(str(tmp_path / 'empty_dir')) is None


def test_stale_temporary_files_are_removed(tmp_path):
    """Ours only (the names our atomic writers give); another tool's
    temporary files in the work dir are its own."""
    stale = [
        touch(temp_path(str(tmp_path / 'epoch_3.pth')), 1),
        touch(temp_path(str(tmp_path / 'last_checkpoint')), 1),
    ]
    kept = ['epoch_2.pth', 'notes.tmp', '.hidden', '.epoch_3.pth.0123abcd.tmp']
    kept += ['.x.mmpixpro-0123.tmp', '.y.json.mmpixpro-0123456789ab.tmp.part']
    for name in kept:
        touch(tmp_path / name, 1)
    assert remove_stale_temp_files(str(tmp_path)) == sorted(stale)
    assert sorted(os.listdir(tmp_path)) == sorted(kept)


def test_resuming_stops_when_the_next_checkpoint_cannot_fit(tmp_path):
    fits = touch(tmp_path / 'epoch_1.pth', 1, data=b'x' * 1000)
    ensure_room_for(fits, str(tmp_path))
    # A sparse file larger than the free space stands for a large checkpoint.
    huge = tmp_path / 'epoch_2.pth'
    with open(huge, 'wb') as f:
        f.truncate(shutil.disk_usage(tmp_path).free + (1 << 30))
    with pytest.raises(OSError, match='free, less than the') as info:
        ensure_room_for(str(huge), str(tmp_path))
    assert info.value.errno == errno.ENOSPC
    assert str(tmp_path) in str(info.value) and str(huge) in str(info.value)


def test_a_write_on_a_full_disk_names_the_file_and_leaves_the_old_one(
    tmp_path, monkeypatch
):
    target = tmp_path / 'epoch_3.pth'
    target.write_bytes(b'previous')
    real_write = os.write
    calls = []

    def full_after_4_kib(fd, data):  # the write(2) call fails as on a full disk
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, memoryview(data)[:4096])

    monkeypatch.setattr(os, 'write', full_after_4_kib)
    with pytest.raises(OSError) as info:
        AtomicLocalBackend().put(b'n' * (1 << 20), target)
    assert info.value.errno == errno.ENOSPC
    assert str(info.value).startswith(
        f'[Errno 28] could not write {target} (1.0 MiB): No space left on device; '
    )
    assert ' free of ' in str(info.value)
    assert len(calls) == 2  # one partial write, then the full disk
    assert target.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['epoch_3.pth']  # no temporary file left


def test_checkpoints_get_the_umask_permissions_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        AtomicLocalBackend().put(b'data', tmp_path / 'epoch_1.pth')
    finally:
        os.umask(old)
    assert (tmp_path / 'epoch_1.pth').stat().st_mode & 0o777 == 0o644


def train(work_dir, photos, epochs, name, **cfg_updates):
    cfg = tiny_config(DEMO_CONFIG, work_dir, max_epochs=epochs, data_root=photos)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.visualizer.name = name
    cfg.merge_from_dict(cfg_updates)
    runner = FaultTolerantRunner.from_cfg(cfg)
    runner.train()
    return runner


def test_a_restarted_worker_resumes_from_the_newest_checkpoint(
    tmp_path, photos, monkeypatch
):
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    # Restarted before the first checkpoint: the run starts as commanded.
    first = train(tmp_path, photos, 1, 'first')
    assert first.iter == 1
    # Restarted later: resumes (the command said nothing about resuming).
    torch.save({'not': 'a checkpoint'}, tmp_path / 'epoch_9.pth')  # newest, bad
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    partial = temp_path(str(tmp_path / 'epoch_2.pth'))
    with open(partial, 'wb') as f:
        f.write(b'partial')
    second = train(tmp_path, photos, 2, 'second')
    assert second.iter == 2  # 1 resumed + 1 trained
    log = open(osp.join(second.log_dir, f'{second.timestamp}.log')).read()
    assert f'damaged checkpoint skipped: {tmp_path / "epoch_9.pth"}' in log
    assert f'restart 1 by torchrun: resuming from {tmp_path / "epoch_1.pth"}' in log
    assert not osp.exists(partial)


def test_resume_from_a_named_damaged_file_fails_naming_it(tmp_path, photos):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'')
    with pytest.raises(RuntimeError, match=rf'cannot resume from {bad}: empty'):
        train(tmp_path, photos, 1, 'named', resume=True, load_from=str(bad))


def test_resume_with_nothing_in_the_work_dir_starts_from_scratch(tmp_path, photos):
    runner = train(tmp_path, photos, 1, 'fresh', resume=True)
    assert runner.iter == 1
    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    assert f'resume: no checkpoint in {tmp_path}; start from scratch' in log
