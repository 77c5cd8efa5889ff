"""tools/analysis/visualize_dense_features.py: PCA colours and similarity maps
of a checkpoint beside a random init, written as figures."""

import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import DEMO_CONFIG, PHOTOS, REPO
from helpers import HEAD, LABEL, load_tool, panel, read_png

from mmpixpro.visualization.colour_bar import BAR_WIDTH

TOOL = osp.join(REPO, 'tools', 'analysis', 'visualize_dense_features.py')
SQUARE = osp.join(PHOTOS, 'astronaut.png')  # 512 x 512
WIDE = osp.join(PHOTOS, 'chelsea.png')  # 300 x 451


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/visualize_dense_features.py')


def test_main_writes_figures(tool, demo_checkpoint, tmp_path, capsys):
    out = tmp_path / 'vis'
    files = tool.main(
        [DEMO_CONFIG, demo_checkpoint, SQUARE, WIDE, '--size', '96',
         '--out-dir', str(out)]
    )  # fmt: skip
    stdout = capsys.readouterr().out
    names = ['astronaut_C5_pca', 'astronaut_C5_sim', 'chelsea_C5_pca', 'chelsea_C5_sim']
    assert files == [str(out / f'{n}.png') for n in names]
    for f in files:
        assert f'wrote {f}' in stdout
    assert f'[1/2] {SQUARE} (96x96): C5' in stdout
    assert f'[2/2] {WIDE} (160x96): C5' in stdout
    # One row (image | checkpoint | random) of PCA panels; 3 default points x
    # 2 models of similarity panels; the panels have the resized image size.
    panels = {}
    for stem, (h, w) in [('astronaut', (96, 96)), ('chelsea', (96, 160))]:
        pca = read_png(str(out / f'{stem}_C5_pca.png'))
        sim = read_png(str(out / f'{stem}_C5_sim.png'))
        assert pca.shape[:2] == (HEAD + LABEL + h, 3 * w)
        assert sim.shape[:2] == (HEAD + 2 * (LABEL + h), 3 * w + BAR_WIDTH)
        panels[stem] = [panel(pca, 0, col, h, w) for col in range(3)]
        for img in panels[stem]:  # the image and the two PCA maps: not flat
            assert img.std() > 5
        for img in panels[stem][1:]:  # 3 x 3 (96 px) or 3 x 5 cells, smooth:
            steps = np.abs(np.diff(img.astype(int), axis=1)).max()
            assert steps < 40  # no cell edges (blocks would jump by ~100)
        # the colour scale beside the similarity panels: jet, 1 (red) at the
        # top, the lowest value (blue) at the bottom
        bar = sim[HEAD + LABEL + 1 : -1, 3 * w + 6 : 3 * w + 14].astype(int)
        top, bottom = bar[0].mean(0), bar[-1].mean(0)  # BGR
        assert top[2] > 100 > top[0] and bottom[0] > 100 > bottom[2]
        # checkpoint and random init give different PCA pictures
        diff = panels[stem][1].astype(int) - panels[stem][2]
        assert np.abs(diff).mean() > 5
        diff = panel(sim, 0, 0, h, w).astype(int) - panel(sim, 1, 0, h, w)
        assert np.abs(diff).mean() > 1
    # the two photos give different pictures (compared at one size)
    for a, b in zip(panels['astronaut'], panels['chelsea']):
        b = cv2.resize(b, a.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(a.astype(int) - b).mean() > 5


def test_fpn_levels(tool, fpn_head_setup, tmp_path):
    config, ckpt = fpn_head_setup
    files = tool.main(
        [config, ckpt, SQUARE, '--size', '64', '--levels', 'P3', 'P5', 'P3',
         '--out-dir', str(tmp_path), '--points', '20,20', '--backend', 'cv2']
    )  # fmt: skip
    assert [osp.basename(f) for f in files] == [
        'astronaut_P3_pca.png',
        'astronaut_P3_sim.png',
        'astronaut_P5_pca.png',
        'astronaut_P5_sim.png',
    ]
    assert read_png(files[1]).shape == (HEAD + 2 * (LABEL + 64), 64 + BAR_WIDTH, 3)


def test_errors(tool, demo_checkpoint, fpn_head_setup, tmp_path):
    checkpoint = demo_checkpoint
    out = ['--out-dir', str(tmp_path)]
    with pytest.raises(FileNotFoundError, match='config'):
        tool.main([str(tmp_path / 'none.py'), checkpoint, SQUARE, *out])
    with pytest.raises(FileNotFoundError, match='checkpoint'):
        tool.main([DEMO_CONFIG, str(tmp_path / 'none.pth'), SQUARE, *out])
    with pytest.raises(FileNotFoundError, match='missing.png'):
        tool.main(
            [DEMO_CONFIG, checkpoint, SQUARE, str(tmp_path / 'missing.png'), *out]
        )
    with pytest.raises(ValueError, match=r"unknown level.*\['P3'\].*\['C5'\]"):
        tool.main([DEMO_CONFIG, checkpoint, SQUARE, '--levels', 'P3', *out])
    with pytest.raises(ValueError, match='outside'):
        tool.main(
            [DEMO_CONFIG, checkpoint, SQUARE, '--size', '64', '--points', '70,3', *out]
        )
    # a checkpoint of another config
    with pytest.raises(ValueError, match='lacks .*neck'):
        tool.main([fpn_head_setup[0], checkpoint, SQUARE, *out])
    assert not list(tmp_path.glob('*.png'))


def test_command_line_error(tmp_path):
    result = subprocess.run(
        [sys.executable, TOOL, DEMO_CONFIG, str(tmp_path / 'none.pth'), SQUARE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert 'error: checkpoint' in result.stderr and 'not found' in result.stderr
