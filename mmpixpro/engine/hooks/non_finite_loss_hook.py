"""Stop every rank at the first non-finite loss, before it is checkpointed."""

import os.path as osp
from typing import Dict, List

import torch
from mmengine.dist import all_reduce, get_rank, get_world_size
from mmengine.hooks import Hook

from mmpixpro.engine.run_failure import NonFiniteLossError
from mmpixpro.registry import HOOKS


def loss_table(outputs: Dict[str, object], names: List[str]) -> torch.Tensor:
    """The loss terms ``names`` of every rank, ``[world_size, len(names)]``.

    Each rank fills its own row and the rows are summed over the ranks
    (one ``all_reduce``; a no-op in a single process): the other rows are
    zeros, so every rank gets each rank's values, ``nan`` and ``inf``
    included.
    """
    values = [torch.as_tensor(outputs[k]).detach().reshape(()) for k in names]
    device = values[0].device
    row = torch.stack([v.to(device=device, dtype=torch.float64) for v in values])
    table = row.new_zeros(get_world_size(), len(names))
    table[get_rank()] = row
    all_reduce(table)
    return table.cpu()


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop all ranks at the first iteration whose loss terms are not all
    finite on some rank.

    Under DDP one rank's non-finite loss makes every rank's weights
    non-finite (the gradients are averaged), while the other ranks' own
    losses are still finite. So the decision is collective: every iteration
    the ranks sum a table of their loss terms (see :func:`loss_table`) and
    all raise :class:`NonFiniteLossError` in the same iteration, naming the
    rank(s), the iteration and the terms. The hook's priority (``VERY_HIGH``)
    runs it before the checkpoint hook (``VERY_LOW``) of the same iteration
    and before any ``after_train_epoch``, so no checkpoint of the failed
    iteration or epoch is written and the last one holds finite weights.
    A restart would only repeat the failure (resume is exact):
    :class:`~mmpixpro.engine.fault_tolerant_runner.FaultTolerantRunner`
    records it so that workers restarted by torchrun stop at once.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        names = [k for k in (outputs or {}) if 'loss' in k]
        if not names:
            return
        table = loss_table(outputs, names)
        bad = [r for r in range(table.size(0)) if not torch.isfinite(table[r]).all()]
        if not bad:
            return
        world = table.size(0)
        shown = '; '.join(
            ('' if world == 1 else f'rank {r}: ')
            + ', '.join(f'{k}={float(v):.4g}' for k, v in zip(names, table[r]))
            for r in bad
        )
        where = '' if world == 1 else f' on rank {", ".join(map(str, bad))} of {world}'
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1}{where}: {shown}; '
            f'{self._last_checkpoint_hint(runner)}'
        )

    @staticmethod
    def _last_checkpoint_hint(runner) -> str:
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(last):
            return 'every rank stopped; no checkpoint was saved yet'
        with open(last) as f:
            last_ckpt = f.read().strip()
        return (
            f'every rank stopped before saving; the last checkpoint {last_ckpt} '
            'is intact: fix the cause (e.g. a lower lr, or the data), then '
            'resume with --resume'
        )
