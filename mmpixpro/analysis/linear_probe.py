"""A 1x1 linear classifier trained and scored on frozen dense features.

The features are standardised per channel with the train statistics first
(:func:`standardise`: an affine map, so the probe stays linear), which lets
one learning rate suit every model. Scores: ``mIoU`` over the classes
present in the labels, ``aAcc`` (pixel accuracy), per-class IoU, at the
input and at the feature resolution (:func:`evaluate`).
"""

import random
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .probe_data import IGNORE_INDEX, downsample_labels, present_classes


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA); deterministic cuDNN."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def standardise(train: Tensor, *others: Tensor) -> List[Tensor]:
    """Per-channel ``(x - mean) / std`` with the statistics of ``train``."""
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return [(x - mean) / std for x in (train, *others)]


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
    iterations, mini-batches of ``batch_size`` images shuffled each epoch;
    cross-entropy, ``IGNORE_INDEX`` ignored.

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
        the classes present in ``labels``; at the input resolution the logits
        are upsampled bilinearly, at the feature resolution the labels are
        downsampled (:func:`~.probe_data.downsample_labels`).
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
