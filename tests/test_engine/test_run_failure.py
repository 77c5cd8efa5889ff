"""A failure a restart would only repeat is recorded; a worker torchrun
restarts stops at once with its message; a fresh start clears it."""

import errno
import gc
import json
import os.path as osp
import re
import shutil

import pytest
from conftest import DEMO_CONFIG, PHOTOS
from fault_injection import PoisonAt
from helpers import checkpoint_path, tiny_config
from mmengine.hooks import Hook

from mmpixpro.engine.decoder_crash import DecoderCrashError
from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.engine.run_failure import (
    RECORD,
    NonFiniteLossError,
    RecordedFailureError,
    UnreadableImagesError,
    read_failure,
    record_failure,
    repeating_failure,
    stop_if_failed_before,
)


def test_which_failures_a_restart_would_repeat():
    nan = NonFiniteLossError('non-finite loss')
    assert repeating_failure(nan) is nan
    assert isinstance(nan, FloatingPointError)
    images = UnreadableImagesError('too many')
    assert repeating_failure(images) is images and isinstance(images, RuntimeError)
    full = OSError(errno.ENOSPC, 'could not write epoch_2.pth')
    try:  # as mmengine re-raises it, wrapped
        try:
            raise full
        except OSError as e:
            raise RuntimeError('saving failed') from e
    except RuntimeError as wrapped:
        assert repeating_failure(wrapped) is full
    # a restart may well help with these
    assert repeating_failure(RuntimeError('NCCL timeout')) is None
    assert repeating_failure(OSError(errno.EIO, 'I/O error')) is None
    assert repeating_failure(MemoryError()) is None


def test_record_stops_a_restarted_worker_and_a_fresh_start_clears_it(tmp_path):
    error = NonFiniteLossError('non-finite loss at iteration 6 on rank 1 of 2')
    path = record_failure(str(tmp_path), error, iterations=5)
    assert path == str(tmp_path / RECORD)
    assert read_failure(str(tmp_path))['error'] == 'NonFiniteLossError'
    assert [p.name for p in tmp_path.iterdir()] == [RECORD]  # no temporary file
    lines = []
    with pytest.raises(
        RecordedFailureError,
        match=r'restart 2 by torchrun stops at once: the run failed after 5 '
        r'iterations .*NonFiniteLossError: non-finite loss at iteration 6 on rank 1',
    ):
        stop_if_failed_before(str(tmp_path), 2, lines.append)
    assert (tmp_path / RECORD).exists() and not lines
    stop_if_failed_before(str(tmp_path), 0, lines.append)  # a person's start
    assert not (tmp_path / RECORD).exists()
    assert len(lines) == 1 and 'this fresh start takes it as fixed' in lines[0]
    stop_if_failed_before(str(tmp_path), 3, lines.append)  # nothing recorded
    assert len(lines) == 1


class CountIters(Hook):
    def __init__(self):
        self.iters = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.iters += 1


def runner_of(tmp_path, name, max_epochs=2, resume=False):
    cfg = tiny_config(DEMO_CONFIG, tmp_path, max_epochs=max_epochs)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.resume = resume
    cfg.visualizer.name = name  # one visualizer instance per runner
    return FaultTolerantRunner.from_cfg(cfg)


def test_a_non_finite_loss_is_not_retried_until_a_person_resumes(tmp_path, monkeypatch):
    runner = runner_of(tmp_path, 'failing')
    runner.register_hook(PoisonAt(5))  # epoch 2 (iterations 4-6)
    with pytest.raises(NonFiniteLossError, match='non-finite loss at iteration 5'):
        runner.train()
    record = json.loads((tmp_path / RECORD).read_text())
    assert record['error'] == 'NonFiniteLossError' and record['iterations'] == 4
    assert 'iteration 5: loss=nan' in record['message']
    del runner  # and its hold on the work dir
    gc.collect()

    # torchrun's restart: stops before training, the record stays
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    restarted = runner_of(tmp_path, 'restarted')
    counter = CountIters()
    restarted.register_hook(counter)
    with pytest.raises(RecordedFailureError, match='iteration 5: loss=nan'):
        restarted.train()
    assert counter.iters == 0 and (tmp_path / RECORD).exists()
    del restarted
    gc.collect()

    # the person's `--resume` (a fresh start) clears it and trains
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    resumed = runner_of(tmp_path, 'resumed', resume=True)
    resumed.train()
    assert resumed.iter == 6 and not (tmp_path / RECORD).exists()
    assert checkpoint_path(str(tmp_path)).endswith('epoch_2.pth')


def test_the_stopping_hooks_run_before_the_checkpoint_hook(tmp_path):
    """Both stop every rank in ``after_train_iter`` before the checkpoint
    hook's ``after_train_iter`` / ``after_train_epoch`` of that iteration."""
    runner = runner_of(tmp_path, 'hook_order')
    names = [type(h).__name__ for h in runner.hooks]
    checkpoint = names.index('CheckpointHook')
    assert names.index('NonFiniteLossHook') < checkpoint
    assert names.index('UnreadableImageHook') < checkpoint


def test_a_decoder_crash_in_a_worker_names_the_file_and_is_not_retried(
    tmp_path, monkeypatch
):
    """A decoder that crashes the dataloader worker (a real segmentation
    fault, on coffee.png): the run stops naming the file, counts it as
    unreadable and records the failure; torchrun's restart stops at once,
    without training."""
    data = tmp_path / 'data'
    data.mkdir()
    for name in ('astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'):
        shutil.copy(osp.join(PHOTOS, name), data)
    crashing = str(data / 'coffee.png')

    def runner_on_data(name):
        cfg = tiny_config(DEMO_CONFIG, tmp_path / 'work', data_root=str(data))
        cfg.train_dataloader.num_workers = 1  # decoding happens in a worker
        cfg.train_dataloader.dataset.pipeline[0].update(
            type='CrashDecodingOn', name='coffee.png'
        )
        cfg.visualizer.name = name
        return FaultTolerantRunner.from_cfg(cfg)

    runner = runner_on_data('crashing')
    with pytest.raises(DecoderCrashError) as info:
        runner.train()
    message = str(info.value)
    assert '\n' not in message and info.value.path == crashing
    assert re.fullmatch(
        r'a dataloader worker \(pid \d+\) killed by signal: Segmentation fault '
        rf'while decoding {re.escape(crashing)}: its decoder crashes on this '
        r'file, and would on every restart; counted as unreadable \(1 of 4 '
        r'images unreadable so far\): remove or convert the file, then start '
        r'again \(e\.g\. with --resume\)',
        message,
    ), message
    hook = next(h for h in runner.hooks if type(h).__name__ == 'UnreadableImageHook')
    assert hook.skipped == {crashing}
    record = read_failure(str(tmp_path / 'work'))
    assert record['error'] == 'DecoderCrashError' and record['message'] == message
    del runner
    gc.collect()

    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    restarted = runner_on_data('restarted')
    counter = CountIters()
    restarted.register_hook(counter)
    with pytest.raises(RecordedFailureError, match=f'while decoding {crashing}'):
        restarted.train()
    assert counter.iters == 0
