"""Real, tiny pre-training runs for tests."""

import os.path as osp
from typing import Optional


def checkpoint_path(work_dir: str) -> str:
    """The checkpoint a Runner named last in ``work_dir/last_checkpoint``."""
    with open(osp.join(str(work_dir), 'last_checkpoint')) as f:
        return f.read().strip()


def pretrain(
    config: str, work_dir: str, iters: int = 1, data_root: Optional[str] = None
) -> str:
    """Pre-train ``config`` made tiny (:func:`~.configs.tiny_config`) for
    ``iters`` iterations through mmengine's Runner; returns its checkpoint."""
    from mmengine.runner import Runner

    from .configs import tiny_config

    cfg = tiny_config(config, work_dir, data_root=data_root, iters=iters)
    Runner.from_cfg(cfg).train()
    return checkpoint_path(str(work_dir))
