"""Pictures of one dense feature map: PCA colours and cosine similarities.

* :func:`pca_rgb`: the first three principal components of the map (PCA
  fitted per map, each component min-max normalised) as RGB;
* :func:`similarity_map`: the cosine similarity of every cell to the cell
  holding a query point;
* :func:`pca_panels`, :func:`similarity_panels`: those maps of several models
  upsampled to the image, as panels for :func:`~.figure.save_grid`.
"""

from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .colour_bar import heat_colours
from .figure import Panel

Point = Tuple[float, float]


def pca_rgb(feat: Tensor, num_components: int = 3) -> np.ndarray:
    """Project a feature map onto its first principal components.

    The PCA is fitted on the map's own cells (SVD of the centred
    ``[h * w, C]`` matrix); each component is min-max normalised to [0, 1]
    and its sign fixed (largest loading positive), so the result does not
    depend on the SVD's sign choice. Missing components (fewer cells or
    channels than ``num_components``) and constant ones are 0.

    Args:
        feat: ``[C, h, w]`` features.
        num_components: Output channels.

    Returns:
        ``[h, w, num_components]`` float32 array in [0, 1].
    """
    c, h, w = feat.shape
    x = feat.detach().float().cpu().reshape(c, h * w).t()
    x = x - x.mean(dim=0, keepdim=True)
    out = torch.zeros(h * w, num_components)
    if h * w > 1:
        _, _, vh = torch.linalg.svd(x, full_matrices=False)
        k = min(num_components, vh.shape[0])
        comps = vh[:k]  # [k, C]
        signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
        proj = x @ (comps * signs).t()  # [h * w, k]
        low, high = proj.min(0).values, proj.max(0).values
        span = high - low
        varies = span > 1e-6 * span.max().clamp_min(1e-12)  # else constant: 0
        out[:, :k] = torch.where(varies, (proj - low) / span.clamp_min(1e-12), 0.0)
    return out.reshape(h, w, num_components).clamp(0, 1).numpy()


def feature_cell(
    point: Point, image_size: Tuple[int, int], feat_size: Tuple[int, int]
) -> Tuple[int, int]:
    """The feature cell ``(row, col)`` that holds pixel ``point = (x, y)``.

    Args:
        point: ``(x, y)`` pixel coordinates in the (resized) image.
        image_size: ``(H, W)`` of the image.
        feat_size: ``(h, w)`` of the feature map.

    Raises:
        ValueError: The point is outside the image.
    """
    x, y = point
    height, width = image_size
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f'point ({x:g}, {y:g}) is outside the {width}x{height} image')
    h, w = feat_size
    return min(int(y * h / height), h - 1), min(int(x * w / width), w - 1)


def similarity_map(
    feat: Tensor, point: Point, image_size: Tuple[int, int]
) -> np.ndarray:
    """Cosine similarity of every cell to the cell holding ``point``.

    Args:
        feat: ``[C, h, w]`` features.
        point: ``(x, y)`` in the image of ``image_size``.
        image_size: ``(H, W)`` of the image the features were computed from.

    Returns:
        ``[h, w]`` float32 array in [-1, 1]; 1 at the query cell (unless its
        feature vector is zero, then all 0).
    """
    feat = feat.detach().float().cpu()
    row, col = feature_cell(point, image_size, tuple(feat.shape[1:]))
    unit = F.normalize(feat, dim=0)
    sim = (unit * unit[:, row, col, None, None]).sum(0)
    return sim.clamp(-1, 1).numpy()


def default_points(image_size: Tuple[int, int], num: int = 3) -> List[Point]:
    """``num`` query points on the image diagonal, evenly spaced inside it."""
    height, width = image_size
    return [
        (round(width * (i + 1) / (num + 1)), round(height * (i + 1) / (num + 1)))
        for i in range(num)
    ]


def upsample(array: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize an ``[h, w]`` or ``[h, w, k]`` float map to ``size = (H, W)``
    smoothly (bicubic, clipped to the map's own range: no ringing beyond
    it), so a 7 x 7 map reads as a map and not as 49 blocks."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    out = cv2.resize(array, size[::-1], interpolation=cv2.INTER_CUBIC)
    out = out.reshape(size + array.shape[2:])
    return np.clip(out, array.min(), array.max())


def overlay(rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Blend an RGB image (floats in [0, 1]) with a heat map's colours."""
    return np.clip((1 - alpha) * rgb + alpha * heat, 0, 1)


def mark(rgb: np.ndarray, point: Point) -> np.ndarray:
    """Draw the query point: a white-rimmed black cross."""
    out = np.ascontiguousarray((rgb * 255).astype(np.uint8))
    centre = (int(round(point[0])), int(round(point[1])))
    arm = max(4, min(out.shape[:2]) // 25)
    cv2.drawMarker(out, centre, (255, 255, 255), cv2.MARKER_CROSS, 2 * arm + 4, 4)
    cv2.drawMarker(out, centre, (0, 0, 0), cv2.MARKER_CROSS, 2 * arm, 2)
    return out.astype(np.float32) / 255


def pca_panels(rgb: np.ndarray, maps: Dict[str, Tensor]) -> List[Panel]:
    """The image, then the PCA colours of each model's ``[C, h, w]`` map.

    Args:
        rgb: ``[H, W, 3]`` image, floats in [0, 1].
        maps: Model name -> features of the image.

    Returns:
        Titled ``[H, W, 3]`` panels.
    """
    size = rgb.shape[:2]
    return [('image', rgb)] + [
        (f'PCA {name}', upsample(pca_rgb(feat), size)) for name, feat in maps.items()
    ]


def similarity_panels(
    rgb: np.ndarray, maps: Dict[str, Tensor], points: Sequence[Point]
) -> Tuple[List[List[Panel]], float]:
    """One row per model, one similarity overlay per query point.

    All panels share one colour scale, ``[vmin, 1]`` with ``vmin`` the
    lowest similarity shown (0 when none is negative).

    Args:
        rgb: ``[H, W, 3]`` image, floats in [0, 1].
        maps: Model name -> features of the image.
        points: ``(x, y)`` query points in the image.

    Returns:
        The rows of titled panels, and ``vmin``.
    """
    size = rgb.shape[:2]
    sims = {
        name: [similarity_map(feat, p, size) for p in points]
        for name, feat in maps.items()
    }
    vmin = min(0.0, min(float(s.min()) for v in sims.values() for s in v))
    rows = [
        [
            (
                f'{name} ({p[0]:g},{p[1]:g})',
                mark(overlay(rgb, heat_colours(upsample(s, size), vmin, 1)), p),
            )
            for p, s in zip(points, row)
        ]
        for name, row in sims.items()
    ]
    return rows, vmin
