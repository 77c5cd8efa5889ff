"""A Cityscapes-layout split for the dense probe, read and resized.

``{root}/leftImg8bit/{split}/{city}/*_leftImg8bit.png`` with
``{root}/gtFine/{split}/{city}/*_gtFine_labelTrainIds.png`` (the mmseg
Cityscapes layout; 19 classes, 255 ignored). Images are resized bilinearly,
labels nearest (pixel centres).
"""

import glob
import os.path as osp
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

IGNORE_INDEX = 255
LABEL_SUFFIX = '_gtFine_labelTrainIds.png'
IMAGE_SUFFIX = '_leftImg8bit.png'
# Pixel-centre nearest neighbour (cv2 >= 4.5); INTER_NEAREST is top-left.
NEAREST = getattr(cv2, 'INTER_NEAREST_EXACT', cv2.INTER_NEAREST)


def cityscapes_classes() -> Tuple[str, ...]:
    """The 19 Cityscapes train-id class names (mmseg's order)."""
    from mmseg.datasets import CityscapesDataset

    return tuple(CityscapesDataset.METAINFO['classes'])


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


def present_classes(labels: Tensor, num_classes: int) -> List[int]:
    """Classes with at least one pixel in ``labels``."""
    counts = torch.bincount(labels[labels != IGNORE_INDEX], minlength=num_classes)
    return [c for c in range(num_classes) if counts[c] > 0]
