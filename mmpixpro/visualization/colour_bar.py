"""A colour scale: values -> jet colours, and the bar that reads them back."""

import cv2
import numpy as np

BAR_WIDTH = 64  # pixels: the bar and its tick labels
_BAR = 14  # pixels of colour
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def heat_colours(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """``[...]`` values -> ``[..., 3]`` RGB floats in [0, 1] (jet: ``vmin``
    blue, ``vmax`` red; values outside are clipped)."""
    values = np.asarray(values, dtype=np.float32)
    scaled = np.clip((values - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    flat = (scaled.reshape(-1, 1) * 255).round().astype(np.uint8)
    bgr = cv2.applyColorMap(flat, cv2.COLORMAP_JET).reshape(values.shape + (3,))
    return bgr[..., ::-1].astype(np.float32) / 255


def bar_ticks(vmin: float, vmax: float, num: int = 5) -> np.ndarray:
    """``num`` values from ``vmin`` to ``vmax``, evenly spaced."""
    return np.linspace(vmin, vmax, num)


def colour_bar(vmin: float, vmax: float, height: int, width: int = BAR_WIDTH):
    """A vertical colour bar, ``vmax`` at the top, with tick labels.

    Row ``r`` of the bar (``0 <= r < height``) shows the colour of
    ``vmax - (vmax - vmin) * r / (height - 1)``, the ticks of
    :func:`bar_ticks` are marked beside it.

    Returns:
        ``[height, width, 3]`` RGB floats in [0, 1], white around the bar.
    """
    img = np.full((height, width, 3), 255, np.uint8)
    values = vmax - (vmax - vmin) * np.arange(height) / max(height - 1, 1)
    colours = (heat_colours(values, vmin, vmax) * 255).round().astype(np.uint8)
    img[:, 4 : 4 + _BAR] = colours[:, None]
    for tick in bar_ticks(vmin, vmax):
        row = int(round((vmax - tick) / max(vmax - vmin, 1e-12) * (height - 1)))
        cv2.line(img, (4 + _BAR, row), (8 + _BAR, row), (0, 0, 0), 1)
        text_row = min(max(row + 4, 10), height - 2)
        cv2.putText(
            img, f'{tick:.2f}', (10 + _BAR, text_row), _FONT, 0.33, (0, 0, 0), 1,
            cv2.LINE_AA,
        )  # fmt: skip
    return img.astype(np.float32) / 255
