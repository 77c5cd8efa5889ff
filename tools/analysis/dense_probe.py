"""Linear probe of frozen dense features on a Cityscapes-layout dataset.

For each checkpoint (and, with ``--random``, the same config randomly
initialised), the model's dense path up to ``--level`` is frozen (backbone;
the FPN too for a P-level; the projector and FCOS towers are not used), the
features of the train and val images are extracted once, and a 1x1 linear
classifier (``nn.Conv2d(C, 19, 1)``) is trained on them with cross-entropy
(ignore index 255) against the labels downsampled to the feature size
(nearest). The features are standardised per channel with the train
statistics first (an affine map, so the probe stays linear), which lets one
learning rate suit every checkpoint.

Data: ``{root}/leftImg8bit/{train,val}/{city}/*_leftImg8bit.png`` with
``{root}/gtFine/{split}/{city}/*_gtFine_labelTrainIds.png`` (the mmseg
Cityscapes layout; 19 classes, 255 ignored). Images are resized to
``--size H W`` (bilinear) and labels likewise (nearest).

Metrics, on val: ``mIoU`` averages the IoU of the classes present in the val
labels; ``aAcc`` is pixel accuracy. Both are computed at the input
resolution (``--size``, logits bilinearly upsampled from the feature map),
and again at the feature resolution (``*_feat``, labels downsampled nearest).
A Markdown table is printed; ``main`` returns the numbers (fractions).

Examples::

    python tools/analysis/dense_probe.py \\
        --config configs/selfsup/pixpro_r18_c5_1xb4-coslr-40e_demo.py \\
        --checkpoints work_dirs/demo/epoch_20.pth work_dirs/demo/epoch_40.pth \\
        --random --data-root data/cityscapes --size 256 512 --epochs 30
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os.path as osp
import random
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = 255
RANDOM_NAME = 'random init'
LABEL_SUFFIX = '_gtFine_labelTrainIds.png'
IMAGE_SUFFIX = '_leftImg8bit.png'
# Pixel-centre nearest neighbour (cv2 >= 4.5); INTER_NEAREST is top-left.
NEAREST = getattr(cv2, 'INTER_NEAREST_EXACT', cv2.INTER_NEAREST)


def _load_visualizer():
    """The sibling tool that holds the model and feature helpers."""
    name = 'mmpixpro_visualize_dense_features'
    if name not in sys.modules:
        path = osp.join(
            osp.dirname(osp.abspath(__file__)), 'visualize_dense_features.py'
        )
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


vis = _load_visualizer()


def cityscapes_classes() -> Tuple[str, ...]:
    """The 19 Cityscapes train-id class names (mmseg's order)."""
    from mmseg.datasets import CityscapesDataset

    return tuple(CityscapesDataset.METAINFO['classes'])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA); deterministic cuDNN."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


# ------------------------------------------------------------------ data
def find_pairs(data_root: str, split: str) -> List[Tuple[str, str]]:
    """``(image, label)`` paths of a split, sorted.

    Raises:
        FileNotFoundError: No data root, no images, or an image without its
            ``labelTrainIds`` PNG.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root {data_root!r} not found')
    pattern = osp.join(data_root, 'leftImg8bit', split, '*', '*' + IMAGE_SUFFIX)
    images = sorted(glob.glob(pattern))
    if not images:
        raise FileNotFoundError(f'no {split} images: nothing matches {pattern!r}')
    pairs = []
    for img in images:
        city = osp.basename(osp.dirname(img))
        stem = osp.basename(img)[: -len(IMAGE_SUFFIX)]
        label = osp.join(data_root, 'gtFine', split, city, stem + LABEL_SUFFIX)
        if not osp.isfile(label):
            raise FileNotFoundError(f'label {label!r} of {img!r} not found')
        pairs.append((img, label))
    return pairs


def load_split(
    pairs: Sequence[Tuple[str, str]], size: Tuple[int, int], num_classes: int
) -> Tuple[List[np.ndarray], Tensor]:
    """Read and resize a split.

    Args:
        pairs: ``(image, label)`` paths.
        size: ``(H, W)`` to resize to.
        num_classes: Labels must be below it, or ``IGNORE_INDEX``.

    Returns:
        The BGR ``uint8`` images and the ``[N, H, W]`` int64 labels.

    Raises:
        ValueError: A label value that is neither a class nor ignored.
    """
    height, width = size
    images, labels = [], []
    for img_path, label_path in pairs:
        img = cv2.imread(img_path, cv2.IMREAD_COLOR)
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        if img is None or label is None:
            raise FileNotFoundError(f'cannot read {img_path!r} / {label_path!r}')
        if label.ndim == 3:
            label = label[..., 0]
        bad = np.setdiff1d(np.unique(label), [*range(num_classes), IGNORE_INDEX])
        if bad.size:
            raise ValueError(
                f'{label_path!r} holds values {bad.tolist()}: train ids are '
                f'0..{num_classes - 1} or {IGNORE_INDEX}'
            )
        images.append(cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR))
        labels.append(cv2.resize(label, (width, height), interpolation=NEAREST))
    return images, torch.from_numpy(np.stack(labels).astype(np.int64))


def downsample_labels(labels: Tensor, size: Tuple[int, int]) -> Tensor:
    """``[N, H, W]`` labels -> ``[N, h, w]``, nearest neighbour.

    Each cell takes the label at its centre (``'nearest-exact'``), where the
    bilinear upsampling of the logits puts the cell's prediction; plain
    ``'nearest'`` would take its top-left pixel, half a cell off.
    """
    small = F.interpolate(labels[:, None].float(), size=size, mode='nearest-exact')
    return small[:, 0].long()


# ------------------------------------------------------------- features
@torch.no_grad()
def extract(
    model: nn.Module, images: Sequence[np.ndarray], level: str, batch_size: int
) -> Tensor:
    """Frozen features of ``level`` for ``images``: ``[N, C, h, w]`` on CPU."""
    out = []
    for start in range(0, len(images), batch_size):
        inputs = vis.preprocess(model, images[start : start + batch_size])
        out.append(vis.extract_features(model, inputs, [level])[level].float().cpu())
    return torch.cat(out)


def standardise(train: Tensor, *others: Tensor) -> List[Tensor]:
    """Per-channel ``(x - mean) / std`` with the statistics of ``train``."""
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return [(x - mean) / std for x in (train, *others)]


# ---------------------------------------------------------------- probe
def train_probe(
    feats: Tensor,
    labels: Tensor,
    num_classes: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    device: str = 'cpu',
    log: Optional[Callable[[str], None]] = print,
) -> Tuple[nn.Conv2d, float]:
    """Train ``nn.Conv2d(C, num_classes, 1)`` on frozen features.

    SGD (momentum 0.9, no weight decay), cosine learning rate over all
    iterations, mini-batches of ``batch_size`` images shuffled each epoch.

    Args:
        feats: ``[N, C, h, w]`` features.
        labels: ``[N, h, w]`` labels at the feature size (255 ignored).
        num_classes: Classifier outputs.
        epochs: Passes over the images.
        batch_size: Images per step.
        lr: Initial learning rate.
        seed: Seeds the initialisation and the shuffling.
        device: Where to train.
        log: Called with a progress line about ten times; None: silent.

    Returns:
        The classifier (eval mode) and the last epoch's mean loss.
    """
    seed_everything(seed)
    probe = nn.Conv2d(feats.shape[1], num_classes, 1).to(device)
    steps_per_epoch = -(-len(feats) // batch_size)
    optimizer = torch.optim.SGD(probe.parameters(), lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(1, epochs * steps_per_epoch)
    )
    generator = torch.Generator().manual_seed(seed)
    every = max(1, epochs // 10)
    epoch_loss = float('nan')
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(feats), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            x, y = feats[idx].to(device), labels[idx].to(device)
            if bool((y == IGNORE_INDEX).all()):
                scheduler.step()
                continue
            loss = F.cross_entropy(probe(x), y, ignore_index=IGNORE_INDEX)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total, count = total + loss.item(), count + 1
        epoch_loss = total / max(count, 1)
        if log is not None and (epoch % every == 0 or epoch == epochs):
            log(f'    epoch {epoch}/{epochs}  loss {epoch_loss:.4f}')
    return probe.eval(), epoch_loss


def confusion(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """``[K, K]`` confusion matrix (rows: target), ignored pixels left out."""
    keep = target != IGNORE_INDEX
    index = target[keep] * num_classes + pred[keep]
    return torch.bincount(index, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def scores(conf: Tensor, present: Sequence[int]) -> Dict[str, object]:
    """mIoU over the ``present`` classes, pixel accuracy, per-class IoU."""
    conf = conf.double()
    tp = conf.diag()
    union = conf.sum(0) + conf.sum(1) - tp
    iou = tp / union.clamp_min(1)
    return dict(
        mIoU=float(iou[list(present)].mean()),
        aAcc=float(tp.sum() / conf.sum().clamp_min(1)),
        IoU={int(c): float(iou[c]) for c in present},
    )


@torch.no_grad()
def evaluate(
    probe: nn.Conv2d,
    feats: Tensor,
    labels: Tensor,
    num_classes: int,
    batch_size: int,
    device: str = 'cpu',
) -> Dict[str, Dict[str, object]]:
    """Scores at the input and at the feature resolution.

    Args:
        probe: The trained classifier.
        feats: ``[N, C, h, w]`` val features.
        labels: ``[N, H, W]`` val labels at the input size.
        num_classes: Classes of the probe.
        batch_size: Images per forward pass.
        device: Where the probe is.

    Returns:
        ``{'input': scores, 'feature': scores}`` (see :func:`scores`), over
        the classes present in ``labels``.
    """
    small = downsample_labels(labels, tuple(feats.shape[2:]))
    full_conf = torch.zeros(num_classes, num_classes, dtype=torch.long)
    feat_conf = torch.zeros_like(full_conf)
    for start in range(0, len(feats), batch_size):
        logits = probe(feats[start : start + batch_size].to(device)).cpu()
        feat_conf += confusion(
            logits.argmax(1), small[start : start + batch_size], num_classes
        )
        up = F.interpolate(
            logits, size=labels.shape[1:], mode='bilinear', align_corners=False
        )
        full_conf += confusion(
            up.argmax(1), labels[start : start + batch_size], num_classes
        )
    present = present_classes(labels, num_classes)
    return dict(input=scores(full_conf, present), feature=scores(feat_conf, present))


def present_classes(labels: Tensor, num_classes: int) -> List[int]:
    """Classes with at least one pixel in ``labels``."""
    counts = torch.bincount(labels[labels != IGNORE_INDEX], minlength=num_classes)
    return [c for c in range(num_classes) if counts[c] > 0]


# ------------------------------------------------------------------- main
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1],
    )
    parser.add_argument('--config', required=True, help='pre-training config')
    parser.add_argument(
        '--checkpoints', nargs='+', default=[], metavar='CKPT', help='checkpoints'
    )
    parser.add_argument(
        '--random', action='store_true', help='add the randomly initialised model'
    )
    parser.add_argument('--data-root', required=True, help='Cityscapes-layout root')
    parser.add_argument(
        '--level', help="feature level, e.g. C5 or P3; default: the config's first"
    )
    parser.add_argument('--epochs', type=int, default=30, help='probe epochs (30)')
    parser.add_argument('--batch-size', type=int, default=8, help='images per step (8)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[256, 512],
        metavar=('H', 'W'),
        help='input size (default 256 512)',
    )
    parser.add_argument(
        '--lr', type=float, default=0.1, help='probe SGD learning rate (0.1)'
    )
    parser.add_argument(
        '--max-images',
        type=int,
        help='use at most this many images of each split (the first, sorted)',
    )
    parser.add_argument('--seed', type=int, default=0, help='seeds everything (0)')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    args = parser.parse_args(argv)
    if not args.checkpoints and not args.random:
        parser.error('give --checkpoints, --random, or both')
    if args.epochs < 1 or args.batch_size < 1 or min(args.size) < 1:
        parser.error('--epochs, --batch-size and --size must be positive')
    return args


def format_table(
    results: Dict[str, Dict[str, object]], level: str, class_names: Sequence[str]
) -> str:
    """The Markdown table of :func:`main`'s results (percentages)."""
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


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the probe; returns the settings and, per model, its scores.

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
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config!r} not found')
    for ckpt in args.checkpoints:
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'checkpoint {ckpt!r} not found')
    splits = {s: find_pairs(args.data_root, s) for s in ('train', 'val')}
    if args.max_images:
        splits = {s: p[: args.max_images] for s, p in splits.items()}
    names = cityscapes_classes()
    num_classes = len(names)
    size = tuple(args.size)
    data = {s: load_split(p, size, num_classes) for s, p in splits.items()}
    present = present_classes(data['val'][1], num_classes)
    if not present:
        raise ValueError(f'the val labels under {args.data_root!r} are all ignored')
    print(
        f'{len(splits["train"])} train / {len(splits["val"])} val images at '
        f'{size[0]}x{size[1]}; {len(present)} classes in val: '
        f'{", ".join(names[c] for c in present)}',
        flush=True,
    )

    rows: List[Tuple[str, Optional[str]]] = [(c, c) for c in args.checkpoints]
    if args.random:
        rows.append((RANDOM_NAME, None))
    results: Dict[str, Dict[str, object]] = {}
    level, feat_size = args.level, None
    for n, (name, ckpt) in enumerate(rows, 1):
        start = time.time()
        model = vis.build_model(args.config, ckpt, args.seed, args.device)
        if level is None:
            level = vis.default_levels(model)[0]
        vis.check_levels(model, [level])
        model.requires_grad_(False)
        feats = {
            s: extract(model, d[0], level, args.batch_size) for s, d in data.items()
        }
        del model
        train, val = standardise(feats.pop('train'), feats.pop('val'))
        feat_size = tuple(train.shape[2:])
        print(
            f'[{n}/{len(rows)}] {name}: {level} features '
            f'{train.shape[1]}x{feat_size[0]}x{feat_size[1]} '
            f'({time.time() - start:.1f} s); training the probe',
            flush=True,
        )
        probe, loss = train_probe(
            train,
            downsample_labels(data['train'][1], feat_size),
            num_classes,
            args.epochs,
            args.batch_size,
            args.lr,
            args.seed,
            args.device,
            log=lambda line: print(line, flush=True),
        )
        res = evaluate(
            probe, val, data['val'][1], num_classes, args.batch_size, args.device
        )
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
        print(
            f'    val mIoU {100 * results[key]["mIoU"]:.1f}  '
            f'aAcc {100 * results[key]["aAcc"]:.1f}  '
            f'({time.time() - start:.1f} s)',
            flush=True,
        )

    evaluated_at = (
        f'input resolution {size[0]}x{size[1]} (logits bilinearly upsampled '
        f'from {feat_size[0]}x{feat_size[1]}); @feat: at the feature '
        'resolution, labels downsampled nearest (cell centres)'
    )
    print()
    print(format_table(results, level, [names[c] for c in present]))
    print(
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


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
