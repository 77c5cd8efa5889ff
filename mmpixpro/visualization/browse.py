"""Browse a pre-training config's dataset: views, boxes and positive pairs.

For each image, the config's own pipeline runs as in training (decode, two
views with their boxes, packing); the decoded image is kept just before
:class:`MultiViewWithCoord`, and the packed views and boxes are what the
model would receive.
"""

import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import set_random_seed

from mmpixpro.datasets.transforms import MultiViewWithCoord
from mmpixpro.registry import DATASETS

from .view_pairs import MAX_LINES, PANEL, PairPicture, draw_view_pairs, level_grid


@dataclass
class Sample:
    """One image through the pipeline: the decoded image, views and boxes."""

    img_path: str
    original: np.ndarray  # BGR [H, W, 3]
    views: List[np.ndarray]  # BGR [h, w, 3] each, as packed for the model
    coords: torch.Tensor  # [2, 4]


def run_pipeline(dataset, index: int) -> Optional[Sample]:
    """The training pipeline of ``dataset`` on image ``index``.

    Returns None when the image cannot be read (the pipeline returned None).

    Raises:
        ValueError: the pipeline has no ``MultiViewWithCoord`` or does not
            pack views and boxes (``PackPixProInputs``).
    """
    sub, local = dataset, index
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        d, local = dataset._get_ori_dataset_idx(index)
        sub = dataset.datasets[d]
    results, original = sub.get_data_info(local), None
    for transform in sub.pipeline.transforms:
        if isinstance(transform, MultiViewWithCoord):
            original = np.array(results['img'])
        results = transform(results)
        if results is None:
            return None
    if original is None or 'inputs' not in results:
        raise ValueError(
            'the pipeline must make views with MultiViewWithCoord and pack them '
            'with PackPixProInputs'
        )
    views = [x.permute(1, 2, 0).numpy() for x in results['inputs']]
    coords = results['data_samples'].coords
    if len(views) != 2:
        raise ValueError(
            f'browse_dataset draws two views, the pipeline made {len(views)}'
        )
    return Sample(results['data_samples'].img_path, original, views, coords)


def default_threshold(cfg: Config) -> float:
    """``T`` of the config's pixel head (0.7 when it has none)."""
    head = cfg.model.get('head') or {}
    return float(head.get('pos_threshold', 0.7))


def browse_dataset(
    cfg: Config,
    out_dir: str,
    num_images: int = 4,
    level: str = 'C5',
    grid: Optional[Tuple[int, int]] = None,
    threshold: Optional[float] = None,
    indices: Optional[Sequence[int]] = None,
    seed: int = 0,
    panel: int = PANEL,
    max_lines: int = MAX_LINES,
) -> List[Tuple[str, PairPicture, Sample]]:
    """Write one PNG per image of ``cfg``'s training dataset.

    Args:
        cfg (Config): A pre-training config (``train_dataloader.dataset``).
        out_dir (str): Folder for the PNGs (created).
        num_images (int): How many images, from the start (or ``indices``).
        level (str): Level whose cells are paired, e.g. ``'C5'``, ``'P3'``.
        grid (tuple, optional): ``(H, W)`` cells instead of the level's.
        threshold (float, optional): ``T``; default: the config's.
        indices (Sequence[int], optional): Dataset indices to draw.
        seed (int): Seed of the augmentations. Defaults to 0.
        panel (int): Height of the view panels in pixels. Defaults to 448.
        max_lines (int): At most this many pairs drawn. Defaults to 64.

    Returns:
        list: ``(png_path, picture, sample)`` per image drawn; unreadable
        images are skipped.
    """
    if threshold is None:
        threshold = default_threshold(cfg)
    # In mmpixpro's scope even when another (a downstream Runner's) is current.
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    if indices is None:
        indices = range(min(num_images, len(dataset)))
    set_random_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    drawn = []
    for index in indices:
        sample = run_pipeline(dataset, index)
        if sample is None:
            continue
        cells = grid or level_grid(level, sample.views[0].shape[:2])
        name = osp.splitext(osp.basename(sample.img_path))[0]
        title = f'{name} {level if grid is None else "grid"}: '
        picture = draw_view_pairs(
            sample.original,
            sample.views,
            sample.coords,
            cells,
            threshold,
            title,
            panel=panel,
            max_lines=max_lines,
        )
        path = osp.join(out_dir, f'{index:05d}_{name}.png')
        mmcv.imwrite(picture.image[..., ::-1], path)
        drawn.append((path, picture, sample))
    return drawn
