"""One picture of two views and their positive pixel pairs.

Left: the original image with both crop boxes; right: the two augmented views
side by side, enlarged, the cells of one feature level drawn as a faint grid,
and a sample of the positive pairs of PixPro's rule
(:func:`mmpixpro.models.utils.pixel_pair_mask`): one pair per cell of view 1
(evenly thinned to ``max_lines``), a thin semi-transparent line from its cell
in view 1 to its cell in view 2, both cells marked with an opaque dot of the
line's colour. At C5 a view has 49 cells and ~150 pairs, at P3 784 cells and a few
thousand pairs: all of them would cover view 2.
"""

import math
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch

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
TITLE_HEIGHT = 28
GAP = 12
PANEL = 448  # view panels' height in pixels (a 224 px view at 2x)
MAX_LINES = 64  # C5: every cell of view 1 that has a pair
LINE_ALPHA = 0.6
GRID_ALPHA = 0.35


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
        pairs (np.ndarray): ``[P, 2]`` cell indices (view 1, view 2), every
            positive pair of the rule.
        drawn (np.ndarray): ``[D]`` indices into ``pairs`` of the lines drawn.
        segments (np.ndarray): ``[D, 2, 2]`` the drawn lines, two ``(x, y)``
            end points (cell centres) in ``image`` pixels.
        grid (tuple): ``(H, W)`` of the level.
        title (str): The title drawn above.
        view_origins (list): ``(x, y)`` of each view panel's top-left corner.
        scale (float): Panel pixels per view pixel.
    """

    image: np.ndarray
    pairs: np.ndarray
    drawn: np.ndarray
    segments: np.ndarray
    grid: Tuple[int, int]
    title: str
    view_origins: List[Tuple[int, int]] = field(default_factory=list)
    scale: float = 1.0


def _box_in_pixels(coord: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Normalised box (``x1 > x2`` when flipped) -> ``[x1, y1, x2, y2]`` px."""
    h, w = shape[:2]
    xs = sorted((coord[0] * (w - 1), coord[2] * (w - 1)))
    ys = sorted((coord[1] * (h - 1), coord[3] * (h - 1)))
    return np.array([xs[0], ys[0], xs[1] + 1, ys[1] + 1], dtype=np.float32)


def sample_pairs(pairs: np.ndarray, max_lines: int) -> np.ndarray:
    """Indices into ``pairs`` of the ones to draw: one per cell of view 1,
    its view-2 cell the one nearest the middle of its matches (row-major)
    that no earlier view-1 cell took, when there is one; then at most
    ``max_lines`` of those, evenly over the view-1 cells."""
    if len(pairs) == 0 or max_lines <= 0:
        return np.zeros(0, dtype=np.int64)
    # pairs come sorted by view-1 cell (row-major nonzero)
    _, first, count = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    taken, chosen = set(), []
    for start, n in zip(first, count):
        middle = start + n // 2
        order = sorted(range(start, start + n), key=lambda i: abs(i - middle))
        pick = next((i for i in order if pairs[i, 1] not in taken), middle)
        taken.add(pairs[pick, 1])
        chosen.append(pick)
    chosen = np.array(chosen, dtype=np.int64)
    if len(chosen) > max_lines:
        keep = np.round(np.linspace(0, len(chosen) - 1, max_lines)).astype(int)
        chosen = chosen[np.unique(keep)]
    return chosen


def cell_colours(cells: np.ndarray) -> np.ndarray:
    """``[D, 3]`` RGB colours, far apart in hue for neighbouring cell indices
    (golden-ratio steps around the hue circle)."""
    hues = (cells * 0.618034 % 1.0 * 180).astype(np.uint8)  # OpenCV: 0..179
    hsv = np.stack([hues, np.full_like(hues, 230), np.full_like(hues, 255)], axis=-1)[
        None
    ]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(int)


def _blend(canvas: np.ndarray, layer: np.ndarray, mask: np.ndarray, alpha: float):
    """``canvas`` with ``layer`` laid over it where ``mask``, ``alpha`` opaque."""
    mixed = canvas.astype(np.float32) * (1 - alpha) + layer.astype(np.float32) * alpha
    canvas[mask] = mixed[mask].round().astype(np.uint8)


def _lp(point) -> Tuple[int, int]:
    """A point for cv2's sub-pixel drawing (4 fractional bits)."""
    return int(round(point[0] * 16)), int(round(point[1] * 16))


def draw_view_pairs(
    original: np.ndarray,
    views: Sequence[np.ndarray],
    coords: torch.Tensor,
    grid: Sequence[int],
    threshold: float,
    title: str = '',
    panel: int = PANEL,
    max_lines: int = MAX_LINES,
) -> PairPicture:
    """Draw the original with both boxes, the two views and their pairs.

    Args:
        original (np.ndarray): The decoded image, BGR ``[H, W, 3]``.
        views (Sequence[np.ndarray]): The two augmented views, BGR, same size.
        coords (Tensor): Their crop boxes ``[2, 4]``.
        grid (Sequence[int]): ``(H, W)`` cells of the chosen level.
        threshold (float): ``T`` of the pair rule.
        title (str): Text before the pair count in the title.
        panel (int): Height of the view panels in pixels (views are enlarged
            or shrunk to it). Defaults to 448.
        max_lines (int): At most this many pairs are drawn (see
            :func:`sample_pairs`). Defaults to 64.
    """
    if len(views) != 2 or views[0].shape != views[1].shape:
        raise ValueError('draw_view_pairs needs two views of the same size')
    grid = (int(grid[0]), int(grid[1]))
    pairs = positive_pairs(coords, grid, threshold)
    drawn = sample_pairs(pairs, max_lines)
    vh, vw = views[0].shape[:2]
    scale = panel / vh
    ph, pw = panel, max(1, round(vw * scale))
    shown_w = max(1, round(original.shape[1] * ph / original.shape[0]))
    shown = cv2.resize(original, (shown_w, ph), interpolation=cv2.INTER_AREA)
    origins = [(shown_w + GAP, TITLE_HEIGHT), (shown_w + 2 * GAP + pw, TITLE_HEIGHT)]
    canvas = np.full((TITLE_HEIGHT + ph, origins[1][0] + pw, 3), 255, np.uint8)
    canvas[TITLE_HEIGHT:, :shown_w] = shown[..., ::-1]
    for (x, y), view in zip(origins, views):
        big = cv2.resize(view, (pw, ph), interpolation=cv2.INTER_CUBIC)
        canvas[y : y + ph, x : x + pw] = big[..., ::-1]

    # crop boxes on the original, opaque
    coords_np = torch.as_tensor(coords).float().numpy()
    box_scale = ph / original.shape[0]
    for coord, colour in zip(coords_np, VIEW_COLORS):
        x1, y1, x2, y2 = _box_in_pixels(coord, original.shape) * box_scale
        top_left = (min(x1, shown_w - 2), TITLE_HEIGHT + min(y1, ph - 2))
        bottom_right = (min(x2, shown_w - 1), TITLE_HEIGHT + min(y2, ph - 1))
        cv2.rectangle(
            canvas, _lp(top_left), _lp(bottom_right), colour, 2, cv2.LINE_AA, 4
        )
    # the level's cells, faint, inside each panel
    layer, mask = canvas.copy(), np.zeros(canvas.shape[:2], np.uint8)
    for (x0, y0), colour in zip(origins, VIEW_COLORS):
        for i in range(grid[1] + 1):
            x = x0 + min(i * pw / grid[1], pw - 1)
            for img, value in ((layer, colour), (mask, 1)):
                cv2.line(img, _lp((x, y0)), _lp((x, y0 + ph - 1)), value, 1, 8, 4)
        for i in range(grid[0] + 1):
            y = y0 + min(i * ph / grid[0], ph - 1)
            for img, value in ((layer, colour), (mask, 1)):
                cv2.line(img, _lp((x0, y)), _lp((x0 + pw - 1, y)), value, 1, 8, 4)
    _blend(canvas, layer, mask.astype(bool), GRID_ALPHA)
    # the drawn pairs: cell centres joined, one colour per view-1 cell
    centres = cell_centres(grid, (ph, pw))
    segments = np.stack(
        [
            centres[pairs[drawn, 0]] + origins[0],
            centres[pairs[drawn, 1]] + origins[1],
        ],
        axis=1,
    ).reshape(-1, 2, 2)
    layer, mask = canvas.copy(), np.zeros(canvas.shape[:2], np.uint8)
    colours = [tuple(int(c) for c in rgb) for rgb in cell_colours(pairs[drawn, 0])]
    for (start, end), colour in zip(segments, colours):
        for img, value in ((layer, colour), (mask, 1)):
            cv2.line(img, _lp(start), _lp(end), value, 1, cv2.LINE_AA, 4)
    _blend(canvas, layer, mask.astype(bool), LINE_ALPHA)
    radius = max(2.5, min(ph / grid[0], pw / grid[1]) / 9)  # opaque dots
    for (start, end), colour in zip(segments, colours):
        for point in (start, end):
            cv2.circle(canvas, _lp(point), round(radius * 16), colour, -1, 8, 4)

    flipped = ['' if c[0] <= c[2] else ' (flipped)' for c in coords_np]
    text = (
        f'{title}{len(pairs)} positive pairs ({len(drawn)} drawn, one per cell '
        f'of view 1), {grid[0]}x{grid[1]} cells, T={threshold:g}'
        f' | view 1{flipped[0]} red, view 2{flipped[1]} blue'
    )
    cv2.putText(
        canvas, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
    )
    return PairPicture(canvas, pairs, drawn, segments, grid, text, origins, scale)
