"""Linear probe of frozen dense features on a Cityscapes-layout dataset.

For each checkpoint (and, with ``random=True``, the same config randomly
initialised), the model's dense path up to ``level`` is frozen (backbone;
the FPN too for a P-level; the projector and FCOS towers are not used), the
features of the train and val images are extracted once
(:func:`~mmpixpro.apis.dense_features`), and a 1x1 linear classifier
(:mod:`.linear_probe`) is trained on them against the labels downsampled to
the feature size (nearest, cell centres).

Metrics, on val: ``mIoU`` averages the IoU of the classes present in the val
labels; ``aAcc`` is pixel accuracy. Both are computed at the input
resolution (logits bilinearly upsampled from the feature map), and again at
the feature resolution (``*_feat``).

With ``progress=True`` mmengine's progress bar follows the two long loops:
reading the images, and extracting each model's features.
"""

import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from mmpixpro.apis import dense_features, init_model, preprocess, selected_levels
from mmpixpro.utils.config_resolver import resolve_config

from .linear_probe import evaluate, standardise, train_probe
from .probe_data import (
    cityscapes_classes,
    downsample_labels,
    find_pairs,
    load_split,
    present_classes,
)

RANDOM_NAME = 'random init'


class _Progress:
    """mmengine's :class:`ProgressBar` over ``total`` items, or nothing."""

    def __init__(self, total: int, enabled: bool):
        self.bar = ProgressBar(total, file=sys.stdout) if enabled and total else None

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)
            if self.bar.completed == self.bar.task_num:
                self.bar.file.write('\n')


def read_split(
    pairs: Sequence[Tuple[str, str]],
    size: Tuple[int, int],
    num_classes: int,
    progress: bool = False,
) -> Tuple[List[np.ndarray], Tensor]:
    """:func:`~.probe_data.load_split` image by image, with a progress bar."""
    bar = _Progress(len(pairs), progress)
    images: List[np.ndarray] = []
    labels: List[Tensor] = []
    for pair in pairs:
        img, label = load_split([pair], size, num_classes)
        images += img
        labels.append(label)
        bar.advance()
    if not labels:
        return images, torch.zeros((0, *size), dtype=torch.int64)
    return images, torch.cat(labels)


@torch.no_grad()
def extract(
    model: nn.Module,
    images: Sequence[np.ndarray],
    level: str,
    batch_size: int,
    progress: bool = False,
) -> Tensor:
    """Frozen features of ``level`` for ``images``: ``[N, C, h, w]`` on CPU."""
    bar = _Progress(len(images), progress)
    out = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        inputs = preprocess(model, batch)
        out.append(dense_features(model, inputs)[level].float().cpu())
        bar.advance(len(batch))
    return torch.cat(out)


def format_table(
    results: Dict[str, Dict[str, object]], level: str, class_names: Sequence[str]
) -> str:
    """The Markdown table of :func:`dense_probe`'s results (percentages)."""
    lines = [
        f'| model | level | mIoU | aAcc | mIoU@feat | aAcc@feat | '
        f'{" | ".join(class_names)} |',
        '|' + ' --- |' * (6 + len(class_names)),
    ]
    for name, res in results.items():
        per_class = ' | '.join(f'{100 * v:.1f}' for v in res['IoU'].values())
        lines.append(
            f'| {name} | {level} | {100 * res["mIoU"]:.1f} | '
            f'{100 * res["aAcc"]:.1f} | {100 * res["mIoU_feat"]:.1f} | '
            f'{100 * res["aAcc_feat"]:.1f} | {per_class} |'
        )
    return '\n'.join(lines)


def dense_probe(
    config: str,
    checkpoints: Sequence[str],
    data_root: str,
    random: bool = False,
    level: Optional[str] = None,
    size: Tuple[int, int] = (256, 512),
    epochs: int = 30,
    batch_size: int = 8,
    lr: float = 0.1,
    max_images: Optional[int] = None,
    seed: int = 0,
    device: str = 'cpu',
    log: Optional[Callable[[str], None]] = None,
    progress: bool = False,
) -> dict:
    """Probe every checkpoint (and the random initialisation).

    Args:
        config: Pre-training config.
        checkpoints: Checkpoints of that config.
        data_root: Cityscapes-layout root (:mod:`.probe_data`).
        random: Probe the randomly initialised model too.
        level: Feature level, e.g. ``'C5'`` or ``'P3'``; None: the config's
            first selected level.
        size: ``(H, W)`` the images are resized to.
        epochs, batch_size, lr: Of the probe's SGD.
        max_images: Use at most this many images of each split (the first).
        seed: Seeds the random initialisation and the probe.
        device: Torch device.
        log: Called with the progress lines and, at the end, the table; None:
            silent.
        progress: Show mmengine's progress bar (on stdout) while the images
            are read and while each model's features are extracted.

    Returns:
        dict with ``level``, ``size``, ``feature_size``, ``classes`` (the
        classes present in val, by name), ``num_train``, ``num_val``,
        ``evaluated_at`` and ``results``: model name (the checkpoint path as
        given, or ``'random init'``) -> ``mIoU``, ``aAcc`` (input
        resolution), ``mIoU_feat``, ``aAcc_feat`` (feature resolution),
        ``IoU`` (class name -> IoU at the input resolution), ``loss`` (the
        last epoch's train loss), ``checkpoint``. Fractions in [0, 1].

    Raises:
        FileNotFoundError: A missing config, checkpoint or data.
        ValueError: An unknown level, a checkpoint of another config, bad
            label values.
    """
    say = log or (lambda line: None)
    config = resolve_config(config)
    for ckpt in checkpoints:
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'checkpoint {ckpt!r} not found')
    splits = {s: find_pairs(data_root, s) for s in ('train', 'val')}
    if max_images:
        splits = {s: p[:max_images] for s, p in splits.items()}
    names = cityscapes_classes()
    num_classes = len(names)
    size = tuple(size)
    data = {}
    for split, pairs in splits.items():
        say(f'reading {len(pairs)} {split} images')
        data[split] = read_split(pairs, size, num_classes, progress)
    present = present_classes(data['val'][1], num_classes)
    if not present:
        raise ValueError(f'the val labels under {data_root!r} are all ignored')
    say(
        f'{len(splits["train"])} train / {len(splits["val"])} val images at '
        f'{size[0]}x{size[1]}; {len(present)} classes in val: '
        f'{", ".join(names[c] for c in present)}'
    )

    rows: List[Tuple[str, Optional[str]]] = [(c, c) for c in checkpoints]
    if random:
        rows.append((RANDOM_NAME, None))
    results: Dict[str, Dict[str, object]] = {}
    feat_size = None
    for n, (name, ckpt) in enumerate(rows, 1):
        start = time.time()
        model = init_model(config, ckpt, [level] if level else None, seed, device)
        level = level or selected_levels(model)[0]
        model.requires_grad_(False)
        feats = {
            s: extract(model, d[0], level, batch_size, progress)
            for s, d in data.items()
        }
        del model
        train, val = standardise(feats.pop('train'), feats.pop('val'))
        feat_size = tuple(train.shape[2:])
        say(
            f'[{n}/{len(rows)}] {name}: {level} features '
            f'{train.shape[1]}x{feat_size[0]}x{feat_size[1]} '
            f'({time.time() - start:.1f} s); training the probe'
        )
        probe, loss = train_probe(
            train,
            downsample_labels(data['train'][1], feat_size),
            num_classes,
            epochs,
            batch_size,
            lr,
            seed,
            device,
            log=log,
        )
        res = evaluate(probe, val, data['val'][1], num_classes, batch_size, device)
        key = name if name not in results else f'{name} ({n})'
        results[key] = dict(
            mIoU=res['input']['mIoU'],
            aAcc=res['input']['aAcc'],
            mIoU_feat=res['feature']['mIoU'],
            aAcc_feat=res['feature']['aAcc'],
            IoU={names[c]: v for c, v in res['input']['IoU'].items()},
            loss=loss,
            checkpoint=ckpt,
        )
        say(
            f'    val mIoU {100 * results[key]["mIoU"]:.1f}  '
            f'aAcc {100 * results[key]["aAcc"]:.1f}  '
            f'({time.time() - start:.1f} s)'
        )

    evaluated_at = (
        f'input resolution {size[0]}x{size[1]} (logits bilinearly upsampled '
        f'from {feat_size[0]}x{feat_size[1]}); @feat: at the feature '
        'resolution, labels downsampled nearest (cell centres)'
    )
    say('')
    say(format_table(results, level, [names[c] for c in present]))
    say(
        f'\nmIoU over the {len(present)} classes present in val; '
        f'{evaluated_at}. Chance bound: mIoU <= {100 / len(present):.1f} '
        'for any constant prediction.'
    )
    return dict(
        level=level,
        size=list(size),
        feature_size=list(feat_size),
        classes=[names[c] for c in present],
        num_train=len(splits['train']),
        num_val=len(splits['val']),
        evaluated_at=evaluated_at,
        results=results,
    )
