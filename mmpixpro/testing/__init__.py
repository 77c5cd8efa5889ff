"""Scaffolding for tests and the demo (as mmdet's ``mmdet.testing``).

Small configs (:mod:`.configs`), tiny pre-training runs (:mod:`.runs`),
generated datasets in the real on-disk formats (:mod:`.toy_data`) and
supervised checkpoints in their release layouts (:mod:`.releases`). Not used
by training or evaluation.
"""

from . import releases, toy_data
from .configs import (
    coco_split_folders,
    shrink_config,
    small_benchmark_config,
    tiny_config,
    walk_dicts,
)
from .runs import checkpoint_path, pretrain

__all__ = [
    'checkpoint_path',
    'coco_split_folders',
    'pretrain',
    'releases',
    'shrink_config',
    'small_benchmark_config',
    'tiny_config',
    'toy_data',
    'walk_dicts',
]
