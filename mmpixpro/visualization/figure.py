"""A grid of titled RGB panels written as one PNG (matplotlib or cv2)."""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .colour_bar import BAR_WIDTH, colour_bar

Panel = Tuple[str, np.ndarray]
LABEL, HEAD = 20, 26  # pixels above each panel / for the figure title


def _matplotlib():
    try:
        import matplotlib

        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_grid(
    panels: Sequence[Sequence[Panel]],
    path: str,
    title: str = '',
    backend: str = 'auto',
    scale: Optional[Tuple[float, float]] = None,
) -> str:
    """Write a grid of titled RGB panels (rows of ``(title, [H, W, 3])``).

    Each panel is drawn at its own pixel size, so the figure's size follows
    the image size: ``HEAD`` pixels for the title (when given) on top, then
    per row ``LABEL`` pixels for the panel titles above the panels; with a
    ``scale``, a colour bar ``BAR_WIDTH`` pixels wide on the right, from the
    top of the first row's panels to the bottom of the last row's.

    Args:
        panels: Rows of panels; floats in [0, 1], all of one size.
        path: Output PNG.
        title: Figure title.
        backend: ``'matplotlib'``, ``'cv2'`` or ``'auto'`` (matplotlib when
            importable).
        scale: ``(vmin, vmax)`` of the panels' jet colours, for the bar
            (:func:`~.colour_bar.colour_bar`); None: no bar.

    Returns:
        ``path``.
    """
    plt = _matplotlib() if backend in ('auto', 'matplotlib') else None
    if backend == 'matplotlib' and plt is None:
        raise ImportError('matplotlib is not installed')
    rows, cols = len(panels), max(len(r) for r in panels)
    height, width = panels[0][0][1].shape[:2]
    label, head = LABEL, HEAD if title else 0
    bar_width = BAR_WIDTH if scale is not None else 0
    bar = None
    if scale is not None:  # beside the panels, not the first label strip
        bar = colour_bar(*scale, rows * (label + height) - label)
    if plt is not None:
        dpi = 100
        fig_w, fig_h = cols * width + bar_width, head + rows * (label + height)
        fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
        for r, row in enumerate(panels):
            bottom = fig_h - head - (r + 1) * (label + height)
            for c, (name, img) in enumerate(row):
                ax = fig.add_axes(
                    (c * width / fig_w, bottom / fig_h, width / fig_w, height / fig_h)
                )
                ax.imshow(np.clip(img, 0, 1), interpolation='nearest', aspect='auto')
                ax.set_title(name, fontsize=8, pad=3)
                ax.axis('off')
        if bar is not None:
            ax = fig.add_axes(
                (cols * width / fig_w, 0, bar_width / fig_w, bar.shape[0] / fig_h)
            )
            ax.imshow(bar, interpolation='nearest', aspect='auto')
            ax.axis('off')
        if title:
            fig.text(0.5, 1 - 4 / fig_h, title, ha='center', va='top', fontsize=9)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        return path
    # cv2: label strips above the panels, a title strip on top.
    canvas = np.full(
        (head + rows * (label + height), cols * width + bar_width, 3), 255, np.uint8
    )
    font = cv2.FONT_HERSHEY_SIMPLEX
    if title:
        cv2.putText(canvas, title, (4, head - 8), font, 0.4, (0, 0, 0), 1)
    top = head
    for row in panels:
        for c, (name, img) in enumerate(row):
            x = c * width
            cv2.putText(canvas, name, (x + 4, top + label - 6), font, 0.4, (0, 0, 0))
            canvas[top + label : top + label + height, x : x + width] = (
                np.clip(img, 0, 1) * 255
            ).astype(np.uint8)
        top += label + height
    if bar is not None:
        canvas[head + label :, cols * width :] = (bar * 255).round().astype(np.uint8)
    cv2.imwrite(path, canvas[..., ::-1])
    return path
