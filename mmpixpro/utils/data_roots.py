"""Say in one line, before anything is built, when a config's data is not
where the config says.

The shipped configs name their data relative to the folder a command runs in
(``data/imagenet/train/``, ``data/coco/``, as every OpenMMLab config does);
the demo's photos are found from the config's own folder. Run from
elsewhere, the dataset would fail deep inside its loader with a path that
does not say relative to what.
"""

import os
import os.path as osp
from typing import Iterator, Sequence, Tuple

from mmengine.config import Config

TRAINING = ('train_dataloader', 'val_dataloader')


def dataset_roots(dataset: dict, key: str) -> Iterator[Tuple[str, str]]:
    """``(dotted key, data_root)`` of a dataset config and of the datasets
    it wraps (``datasets`` of a concatenation, ``dataset`` of a repeat)."""
    if not isinstance(dataset, dict):
        return
    root = dataset.get('data_root')
    if isinstance(root, str) and root:
        yield f'{key}.data_root', root
    for i, inner in enumerate(dataset.get('datasets') or []):
        yield from dataset_roots(inner, f'{key}.datasets.{i}')
    yield from dataset_roots(dataset.get('dataset'), f'{key}.dataset')


def check_data_roots(cfg: Config, loaders: Sequence[str] = TRAINING) -> None:
    """Raise on the first ``data_root`` of ``loaders`` that is no folder.

    Raises:
        FileNotFoundError: one line naming the key, the path, the folder it
            is relative to, and how to point it elsewhere.
    """
    for loader in loaders:
        config = cfg.get(loader)
        if not isinstance(config, dict):
            continue
        for key, root in dataset_roots(config.get('dataset'), f'{loader}.dataset'):
            if '://' in root or osp.isdir(root):
                continue
            where = (
                f'relative to the folder the command runs in, {os.getcwd()}'
                if not osp.isabs(root)
                else 'an absolute path'
            )
            raise FileNotFoundError(
                f'{key} {root!r} is not a folder ({where}): put the data there '
                '(docs/en/user_guides/benchmarks.md shows each layout) or give '
                f'--cfg-options {key}=DIR'
            )
