"""Test-only hooks that inject one fault at a named iteration (or epoch) on a
named rank, in the first attempt of a run only (``TORCHELASTIC_RESTART_COUNT``
0: a worker that torchrun restarts runs clean), and a test-only image loader
whose decoder crashes on a named file (as a bad file would: in every
attempt).

A test config imports this module (``custom_imports``, with tests/test_engine
on ``PYTHONPATH``) and lists the hooks in ``custom_hooks``
(:func:`fault_config`): the fault comes at the same point of every run,
however loaded the machine is.
"""

import ctypes
import os
import signal

import torch
from mmengine.hooks import Hook

from mmpixpro.datasets.transforms import LoadImageOrSkip
from mmpixpro.engine.fault_tolerant_runner import restart_count
from mmpixpro.registry import HOOKS, TRANSFORMS


def fault_config(folder, base: str, *hooks: dict) -> str:
    """Write ``folder/fault_config.py``: ``base`` plus ``hooks``; its path."""
    path = os.path.join(str(folder), 'fault_config.py')
    with open(path, 'w') as f:
        f.write(
            f'_base_ = {base!r}\n'
            "custom_imports = dict(imports=['fault_injection'], "
            'allow_failed_imports=False)\n'
            f'custom_hooks = {list(hooks)!r}\n'
        )
    return path


def first_attempt() -> bool:
    return restart_count() == 0


def poison(value):
    """``value`` with every tensor replaced by a float tensor of NaNs."""
    if isinstance(value, torch.Tensor):
        return torch.full(value.shape, float('nan'))
    if isinstance(value, (list, tuple)):
        return type(value)(poison(v) for v in value)
    return value


@HOOKS.register_module()
class KillRankAfterIter(Hook):
    """SIGKILL rank ``rank`` once it has finished iteration ``iteration``."""

    priority = 'LOWEST'

    def __init__(self, iteration: int, rank: int = 0) -> None:
        self.iteration, self.rank = iteration, rank

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if first_attempt() and runner.rank == self.rank:
            if runner.iter + 1 == self.iteration:
                os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillAfterEpoch(Hook):
    """SIGKILL every rank once epoch ``epoch`` is over and checkpointed (this
    hook's ``LOWEST`` priority runs it after the checkpoint hook)."""

    priority = 'LOWEST'

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_train_epoch(self, runner) -> None:
        if first_attempt() and runner.epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class NonFiniteBatchAt(Hook):
    """Replace rank ``rank``'s images with NaNs at iteration ``iteration``:
    its loss is not finite, the other ranks' are, and the averaged gradients
    make every rank's weights non-finite."""

    def __init__(self, iteration: int, rank: int = 0) -> None:
        self.iteration, self.rank = iteration, rank

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if first_attempt() and runner.rank == self.rank:
            if runner.iter + 1 == self.iteration:
                data_batch['inputs'] = poison(data_batch['inputs'])


class PoisonAt(Hook):
    """Turns the projector's weights to NaN before iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            with torch.no_grad():
                runner.model.projector.projector[1].weight.fill_(float('nan'))


@TRANSFORMS.register_module()
class CrashDecodingOn(LoadImageOrSkip):
    """``LoadImageOrSkip`` whose decoder crashes the process (a real
    segmentation fault: it reads address 0) when it decodes the file named
    ``name``."""

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.name, self._crash = name, False

    def transform(self, results):
        self._crash = os.path.basename(results['img_path']) == self.name
        return super().transform(results)

    def _decode(self, *args):
        if self._crash:
            ctypes.string_at(0)
        return super()._decode(*args)
