"""Semi-supervised COCO (Table 6): split train2017 into folds, fine-tune on
each, aggregate mean ± std."""

from .aggregate import aggregate_folds
from .folds import FoldRun, plan_runs, semi_coco, train_command
from .split import split_coco

__all__ = [
    'FoldRun',
    'aggregate_folds',
    'plan_runs',
    'semi_coco',
    'split_coco',
    'train_command',
]
