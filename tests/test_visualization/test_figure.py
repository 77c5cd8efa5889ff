"""mmpixpro.visualization.figure: a grid of titled panels in one PNG."""

import numpy as np
import pytest
from helpers import HEAD, LABEL, panel, read_png

from mmpixpro.visualization import save_grid
from mmpixpro.visualization.colour_bar import BAR_WIDTH, colour_bar, heat_colours


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


@pytest.mark.parametrize('backend', ['cv2', 'matplotlib'])
def test_colour_scale_beside_the_panels(tmp_path, backend):
    rng = np.random.default_rng(0)
    noise = rng.random((40, 60, 3))
    path = save_grid(
        [[('a', noise), ('b', noise)], [('c', noise)]],
        str(tmp_path / 'scaled.png'),
        'title',
        backend=backend,
        scale=(-0.5, 1.0),
    )
    img = read_png(path)
    assert img.shape == (HEAD + 2 * (LABEL + 40), 2 * 60 + BAR_WIDTH, 3)
    # from the top of the first row's panels to the bottom of the last's
    column = img[:, 2 * 60 + 8].astype(int)  # BGR, the middle of the bar
    coloured = np.flatnonzero(column.max(1) - column.min(1) > 60)
    assert abs(coloured[0] - (HEAD + LABEL)) <= 2 and coloured[-1] >= img.shape[0] - 3
    top, bottom = column[coloured[0] + 1], column[coloured[-1] - 1]
    assert top[2] > 100 > top[0] and bottom[0] > 100 > bottom[2]  # red .. blue
    # tick labels beside it: dark pixels right of the bar
    assert (img[HEAD + LABEL :, 2 * 60 + 24 :] < 100).any()


def test_colour_bar_rows_are_the_colours_of_their_values():
    vmin, vmax, height = -0.2, 1.0, 61
    bar = colour_bar(vmin, vmax, height)
    for row in (0, 30, 60):
        value = vmax - (vmax - vmin) * row / (height - 1)
        expected = heat_colours(np.array([value]), vmin, vmax)[0]
        np.testing.assert_allclose(bar[row, 8], expected, atol=1 / 255)
    assert bar[0, 8][0] > bar[0, 8][2] and bar[-1, 8][2] > bar[-1, 8][0]
