"""Publish the last checkpoint of a run when training ends."""

import os.path as osp
from functools import partial
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmpixpro.engine.publish import publish_checkpoint
from mmpixpro.registry import HOOKS

from ..checkpoint_reader import read_checkpoint
from ..resume_checkpoint import last_checkpoint_target


@HOOKS.register_module()
class PublishCheckpointHook(Hook):
    """When training ends, rank 0 writes the published form of the run's
    last checkpoint (mmpixpro.engine.publish: weights and plain ``meta``,
    readable by ``torch.load(weights_only=True)`` with nothing imported) as
    ``<out_dir>/<name>_<YYYYMMDD>-<sha256[:8]>.pth``.

    mmengine's ``CheckpointHook(published_keys=...)`` keeps ``meta['cfg']``
    (the config text) and whatever types ``meta`` holds, hence this hook.
    Off unless ``enable``: pre-training configs have it as
    ``default_hooks.publish`` (``--cfg-options default_hooks.publish.enable=True``).

    Args:
        enable (bool): Publish at the end of training. Defaults to False.
        out_dir (str, optional): Defaults to the work dir.
        name (str, optional): Defaults to the config's file name.
    """

    priority = 'VERY_LOW'  # after CheckpointHook saved the last one

    def __init__(
        self,
        enable: bool = False,
        out_dir: Optional[str] = None,
        name: Optional[str] = None,
    ) -> None:
        self.enable = enable
        self.out_dir = out_dir
        self.name = name
        self.published: Optional[str] = None

    def after_train(self, runner) -> None:
        if not self.enable or not is_main_process():
            return
        last = runner.message_hub.get_info('last_ckpt') or last_checkpoint_target(
            runner.work_dir
        )
        if not last or not osp.isfile(last):
            runner.logger.warning(
                'default_hooks.publish: no checkpoint was saved, nothing to publish'
            )
            return
        name = self.name or osp.splitext(osp.basename(runner.cfg.filename or ''))[0]
        out = osp.join(self.out_dir or runner.work_dir, (name or 'pixpro') + '.pth')
        self.published = publish_checkpoint(
            last, out, log=runner.logger.info, read=partial(read_checkpoint, mmap=True)
        )
