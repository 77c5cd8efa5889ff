"""Say at start when a run's total batch is not its config's protocol."""

from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook

from mmpixpro.engine.run_args import option_hint
from mmpixpro.registry import HOOKS


def protocol_batch_message(
    world_size: int,
    batch_size: int,
    base_batch_size: int,
    accumulative_counts: int = 1,
    auto_scale_lr: bool = False,
    scale_option: str = '--auto-scale-lr',
) -> Optional[str]:
    """The line to log when ``world_size x batch_size (x accumulation)``
    differs from the protocol's ``base_batch_size``, else ``None``;
    ``scale_option`` is how the running script switches lr scaling on."""
    total = world_size * batch_size * accumulative_counts
    if total == base_batch_size:
        return None
    parts = f'{world_size} process{"es" if world_size > 1 else ""} x {batch_size}'
    if accumulative_counts > 1:
        parts += f' x {accumulative_counts} accumulated'
    head = (
        f'total batch {total} ({parts}) is not the protocol batch '
        f'{base_batch_size} (auto_scale_lr.base_batch_size)'
    )
    if auto_scale_lr:
        return (
            f'{head}: the lr was scaled by {total / base_batch_size:g} '
            '(auto_scale_lr.enable); results are not comparable with the protocol'
        )
    per_step = batch_size * accumulative_counts
    gpus = base_batch_size // per_step if base_batch_size % per_step == 0 else None
    fix = f' or run on {gpus} GPUs' if gpus else ''
    return (
        f'{head}, and the lr is still the one set for {base_batch_size}: '
        f'add {scale_option} to scale it to {total}{fix}'
    )


@HOOKS.register_module()
class ProtocolBatchHook(Hook):
    """One warning at the start of training when the total batch (world size
    x ``train_dataloader.batch_size`` x ``optim_wrapper.accumulative_counts``)
    differs from ``auto_scale_lr.base_batch_size``, the batch the config's lr
    and schedule were set for (pre-training 1024 = 8 x 128, the paper's
    detectors 16 = 8 x 2), with the fix: the GPU count, or lr scaling in the
    words of the running script (``--auto-scale-lr`` for this project's,
    mmdet's and mmpretrain's train.py; ``--cfg-options
    auto_scale_lr.enable=True`` for mmseg's, which has no such option).
    Configs without ``auto_scale_lr.base_batch_size`` are not checked.

    From another scope (mmdet, mmseg configs) it is
    ``type='mmpixpro.ProtocolBatchHook'`` (mmengine imports ``mmpixpro.registry``
    for the scope, which imports this module through its ``locations``).
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        cfg = runner.cfg
        base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
        batch = (cfg.get('train_dataloader') or {}).get('batch_size')
        if not base or not batch:
            return
        optim = cfg.get('optim_wrapper') or {}
        message = protocol_batch_message(
            get_world_size(),
            batch,
            base,
            accumulative_counts=optim.get('accumulative_counts', 1),
            auto_scale_lr=bool((cfg.get('auto_scale_lr') or {}).get('enable')),
            scale_option=option_hint('--auto-scale-lr', 'auto_scale_lr.enable=True'),
        )
        if message is not None:
            runner.logger.warning(message)
