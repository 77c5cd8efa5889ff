"""One picture of two views and their positive pixel pairs.

Left: the original image with both crop boxes; right: the two augmented views
side by side, the cells of one feature level drawn as a grid, and every
positive pair of PixPro's rule (:func:`mmpixpro.models.utils.pixel_pair_mask`)
joined by a line from its cell in view 1 to its cell in view 2.
"""

import math
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.visualization import Visualizer

from mmpixpro.models.utils import pixel_pair_mask

# Output stride of each level name of PixPro's models (ResNet C2-C5, FPN P2-P7).
LEVEL_STRIDES = {
    'C2': 4,
    'C3': 8,
    'C4': 16,
    'C5': 32,
    'P2': 4,
    'P3': 8,
    'P4': 16,
    'P5': 32,
    'P6': 64,
    'P7': 128,
}
VIEW_COLORS = ((255, 64, 64), (64, 128, 255))  # RGB: view 1 red, view 2 blue
PAIR_COLOR = (0, 255, 0)
TITLE_HEIGHT = 28
GAP = 8


def level_grid(level: str, view_shape: Sequence[int]) -> Tuple[int, int]:
    """Feature-map size of ``level`` for a view of ``(H, W)`` pixels.

    ``ceil(size / stride)``: what ResNet's stride-2 layers (padding 1 or 3)
    and the FPN's extra stride-2 convolutions give for any input size.
    """
    if level not in LEVEL_STRIDES:
        raise ValueError(f'unknown level {level!r}; choose from {list(LEVEL_STRIDES)}')
    stride = LEVEL_STRIDES[level]
    return math.ceil(view_shape[0] / stride), math.ceil(view_shape[1] / stride)


def positive_pairs(
    coords: torch.Tensor, grid: Sequence[int], threshold: float
) -> np.ndarray:
    """``[P, 2]`` (cell of view 1, cell of view 2), row-major cell indices.

    Args:
        coords (Tensor): The two views' crop boxes ``[2, 4]`` (the
            ``coords`` of a packed data sample).
        grid (Sequence[int]): ``(H, W)`` of the level, the same for both views.
        threshold (float): ``T`` of the pair rule.
    """
    coords = torch.as_tensor(coords, dtype=torch.float32)
    if coords.shape != (2, 4):
        raise ValueError(
            f'coords must be [2, 4] (two views), got {tuple(coords.shape)}'
        )
    mask = pixel_pair_mask(coords[:1], coords[1:], grid, grid, threshold)[0]
    return mask.nonzero().numpy()


def cell_centres(grid: Sequence[int], view_shape: Sequence[int]) -> np.ndarray:
    """Pixel centre ``(x, y)`` of every cell of a view, row-major ``[H*W, 2]``.

    The cells are those of the feature map, i.e. of the (possibly flipped)
    view's pixels: cell column 0 is the view's left edge either way.
    """
    (gh, gw), (h, w) = grid, view_shape[:2]
    xs = (np.arange(gw) + 0.5) * w / gw
    ys = (np.arange(gh) + 0.5) * h / gh
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


@dataclass
class PairPicture:
    """What :func:`draw_view_pairs` drew.

    Attributes:
        image (np.ndarray): RGB picture ``[H, W, 3]`` uint8.
        pairs (np.ndarray): ``[P, 2]`` cell indices (view 1, view 2).
        segments (np.ndarray): ``[P, 2, 2]`` the pair lines, two ``(x, y)``
            end points in ``image`` pixels.
        grid (tuple): ``(H, W)`` of the level.
        title (str): The title drawn above.
        view_origins (list): ``(x, y)`` of each view's top-left corner.
    """

    image: np.ndarray
    pairs: np.ndarray
    segments: np.ndarray
    grid: Tuple[int, int]
    title: str
    view_origins: List[Tuple[int, int]] = field(default_factory=list)


def _box_in_pixels(coord: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Normalised box (``x1 > x2`` when flipped) -> ``[x1, y1, x2, y2]`` px."""
    h, w = shape[:2]
    xs = sorted((coord[0] * (w - 1), coord[2] * (w - 1)))
    ys = sorted((coord[1] * (h - 1), coord[3] * (h - 1)))
    return np.array([xs[0], ys[0], xs[1] + 1, ys[1] + 1], dtype=np.float32)


def draw_view_pairs(
    original: np.ndarray,
    views: Sequence[np.ndarray],
    coords: torch.Tensor,
    grid: Sequence[int],
    threshold: float,
    title: str = '',
) -> PairPicture:
    """Draw the original with both boxes, the two views and their pairs.

    Args:
        original (np.ndarray): The decoded image, BGR ``[H, W, 3]``.
        views (Sequence[np.ndarray]): The two augmented views, BGR, same size.
        coords (Tensor): Their crop boxes ``[2, 4]``.
        grid (Sequence[int]): ``(H, W)`` cells of the chosen level.
        threshold (float): ``T`` of the pair rule.
        title (str): Text before the pair count in the title.
    """
    if len(views) != 2 or views[0].shape != views[1].shape:
        raise ValueError('draw_view_pairs needs two views of the same size')
    grid = (int(grid[0]), int(grid[1]))
    pairs = positive_pairs(coords, grid, threshold)
    vh, vw = views[0].shape[:2]
    scale = vh / original.shape[0]
    shown = cv2.resize(original, (max(1, round(original.shape[1] * scale)), vh))
    origins = [
        (shown.shape[1] + GAP, TITLE_HEIGHT),
        (shown.shape[1] + 2 * GAP + vw, TITLE_HEIGHT),
    ]
    canvas = np.full((TITLE_HEIGHT + vh, origins[1][0] + vw, 3), 255, np.uint8)
    canvas[TITLE_HEIGHT:, : shown.shape[1]] = shown[..., ::-1]
    for (x, y), view in zip(origins, views):
        canvas[y : y + vh, x : x + vw] = view[..., ::-1]

    vis = Visualizer(image=canvas)
    coords_np = torch.as_tensor(coords).float().numpy()
    boxes = np.stack([_box_in_pixels(c, original.shape) * scale for c in coords_np])
    boxes[:, 1::2] += TITLE_HEIGHT
    vis.draw_bboxes(boxes, edge_colors=list(VIEW_COLORS), line_widths=2, alpha=1.0)
    for (x0, y0), color in zip(origins, VIEW_COLORS):
        xs = x0 + np.arange(grid[1] + 1) * vw / grid[1]
        ys = y0 + np.arange(grid[0] + 1) * vh / grid[0]
        vis.draw_lines(
            np.stack([xs, xs], 1),
            np.tile([y0, y0 + vh - 1], (len(xs), 1)),
            color,
            '-',
            1,
        )
        vis.draw_lines(
            np.tile([x0, x0 + vw - 1], (len(ys), 1)),
            np.stack([ys, ys], 1),
            color,
            '-',
            1,
        )
    centres = cell_centres(grid, (vh, vw))
    segments = np.stack(
        [centres[pairs[:, 0]] + origins[0], centres[pairs[:, 1]] + origins[1]], axis=1
    ).reshape(-1, 2, 2)
    if len(pairs):
        vis.draw_lines(segments[..., 0], segments[..., 1], PAIR_COLOR, '-', 1)
    flipped = ['' if c[0] <= c[2] else ' (flipped)' for c in coords_np]
    text = (
        f'{title}{len(pairs)} positive pairs, '
        f'{grid[0]}x{grid[1]} cells, T={threshold:g}'
        f' | view 1{flipped[0]} red, view 2{flipped[1]} blue'
    )
    vis.draw_texts(text, np.array([4, 4]), font_sizes=11, colors='k')
    return PairPicture(vis.get_image(), pairs, segments, grid, text, origins)
