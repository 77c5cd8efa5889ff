"""mmpixpro.visualization.figure: a grid of titled panels in one PNG."""

import numpy as np
from helpers import HEAD, LABEL, panel, read_png

from mmpixpro.visualization import save_grid


def test_cv2_figures(tmp_path):
    rng = np.random.default_rng(0)
    red, noise = np.zeros((40, 60, 3), np.float32), rng.random((40, 60, 3))
    red[..., 0] = 1
    path = save_grid(
        [[('a', red), ('b', noise)], [('c', noise)]],
        str(tmp_path / 'grid.png'),
        'title',
        backend='cv2',
    )
    img = read_png(path)
    assert img.shape == (HEAD + 2 * (LABEL + 40), 2 * 60, 3)
    assert (panel(img, 0, 0, 40, 60) == (0, 0, 255)).all()  # BGR red
    assert panel(img, 0, 1, 40, 60).std() > 50
    assert (panel(img, 1, 1, 40, 60) == 255).all()  # no panel: white
