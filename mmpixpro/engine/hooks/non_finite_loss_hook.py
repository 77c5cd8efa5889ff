"""Stop at the first non-finite loss, before it is checkpointed."""

import math
import os.path as osp

from mmengine.hooks import Hook

from mmpixpro.registry import HOOKS


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise at the first iteration whose loss terms are not all finite.

    Runs before the checkpoint hook of the same iteration, so the last saved
    checkpoint is one of finite weights; the message names the iteration, the
    loss terms and that checkpoint.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        if not outputs:
            return
        terms = {k: float(v) for k, v in outputs.items() if 'loss' in k}
        if all(math.isfinite(v) for v in terms.values()):
            return
        shown = ', '.join(f'{k}={v:.4g}' for k, v in terms.items())
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(last):
            with open(last) as f:
                last_ckpt = f.read().strip()
            hint = f'the last checkpoint {last_ckpt} is intact: resume with --resume'
        else:
            hint = 'no checkpoint was saved yet'
        raise FloatingPointError(
            f'non-finite loss at iteration {runner.iter + 1}: {shown}; {hint}'
        )
