"""tools/analysis/visualize_dense_features.py: PCA colours and similarity maps."""

import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import DEMO_CONFIG, PHOTOS, REPO
from helpers import load_tool, pretrain, tiny_config

TOOL = osp.join(REPO, 'tools', 'analysis', 'visualize_dense_features.py')
FPN_CONFIG = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
SQUARE = osp.join(PHOTOS, 'astronaut.png')  # 512 x 512
WIDE = osp.join(PHOTOS, 'chelsea.png')  # 300 x 451
LABEL, HEAD = 20, 26  # pixels above each panel / for the figure title


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/visualize_dense_features.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A real (two-iteration) pre-training checkpoint of the demo config."""
    return pretrain(DEMO_CONFIG, tmp_path_factory.mktemp('pretrain'), iters=2)


@pytest.fixture(scope='module')
def features(tool, checkpoint):
    """C5 of two photos (96 x 96) for the checkpoint and the random init."""
    out = {}
    for name, ckpt in [('checkpoint', checkpoint), ('random', None)]:
        model = tool.build_model(DEMO_CONFIG, ckpt, seed=0)
        images = [tool.load_image(p, [96, 96]) for p in (SQUARE, WIDE)]
        out[name] = tool.extract_features(
            model, tool.preprocess(model, images), ['C5']
        )['C5']
    return out


def read_png(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    assert img is not None, path
    return img


def panel(img, row, col, height, width):
    """Pixels of one panel of a figure (a margin for anti-aliasing)."""
    top = HEAD + row * (LABEL + height) + LABEL
    return img[top + 2 : top + height - 2, col * width + 2 : (col + 1) * width - 2]


# ----------------------------------------------------------------- maps
def test_pca_rgb_separates_two_regions(tool):
    feat = torch.zeros(8, 4, 6)
    feat[:, :, :3] = torch.arange(8.0)[:, None, None]  # left half: one vector
    feat[:, :, 3:] = -torch.arange(8.0)[:, None, None]  # right half: another
    rgb = tool.pca_rgb(feat + 0.01 * torch.randn(8, 4, 6))
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    first = rgb[..., 0]
    # The first component splits the halves: one at 0, the other at 1.
    assert abs(first[:, :3].mean() - first[:, 3:].mean()) > 0.95
    # Same result for a rescaled, shifted map (the PCA is per map).
    np.testing.assert_allclose(
        tool.pca_rgb(3 * feat + 5), tool.pca_rgb(feat), atol=1e-5
    )


def test_pca_rgb_of_real_features(features, tool):
    ckpt, rand = features['checkpoint'], features['random']
    assert ckpt.shape == rand.shape == (2, 512, 3, 3)
    maps = {k: [tool.pca_rgb(f) for f in v] for k, v in features.items()}
    for rgb in maps['checkpoint'] + maps['random']:
        assert rgb.shape == (3, 3, 3)
        assert rgb.min() >= 0 and rgb.max() <= 1
        # min-max normalised: every component spans [0, 1]
        np.testing.assert_allclose(rgb.reshape(-1, 3).min(0), 0, atol=1e-6)
        np.testing.assert_allclose(rgb.reshape(-1, 3).max(0), 1, atol=1e-6)
    for a, b in zip(maps['checkpoint'], maps['random']):
        assert np.abs(a - b).max() > 0.05  # pre-training changed the features
    assert np.abs(maps['checkpoint'][0] - maps['checkpoint'][1]).max() > 0.05


def test_similarity_is_one_at_the_query(features, tool):
    feat = features['checkpoint'][1]  # [512, 3, 3] of the 96 x 96 input
    for point, cell in [((0, 0), (0, 0)), ((50, 10), (0, 1)), ((95, 95), (2, 2))]:
        assert tool.feature_cell(point, (96, 96), (3, 3)) == cell
        sim = tool.similarity_map(feat, point, (96, 96))
        assert sim.shape == (3, 3)
        assert sim.min() >= -1 and sim.max() <= 1
        assert sim[cell] == pytest.approx(1, abs=1e-5)
        assert sim[cell] == sim.max()
        assert np.sum(sim > 1 - 1e-5) < sim.size  # not a constant map
    with pytest.raises(ValueError, match='outside'):
        tool.similarity_map(feat, (96, 10), (96, 96))


def test_random_init_is_seeded(tool, features):
    model = tool.build_model(DEMO_CONFIG, None, seed=0)
    images = [tool.load_image(p, [96, 96]) for p in (SQUARE, WIDE)]
    again = tool.extract_features(model, tool.preprocess(model, images), ['C5'])
    torch.testing.assert_close(again['C5'], features['random'])
    assert not torch.allclose(features['random'], features['checkpoint'])


def test_resize_shape(tool):
    assert tool.resize_shape(512, 512, [224]) == (224, 224)
    # shorter side 96, aspect kept, the long side 144.3 snapped to 32 * 5
    assert tool.resize_shape(300, 451, [96]) == (96, 160)
    assert tool.resize_shape(451, 300, [64]) == (96, 64)
    assert tool.resize_shape(300, 451, [50, 70]) == (50, 70)  # exact


# ----------------------------------------------------------------- tool
def test_main_writes_figures(tool, checkpoint, tmp_path, capsys):
    out = tmp_path / 'vis'
    files = tool.main(
        [DEMO_CONFIG, checkpoint, SQUARE, WIDE, '--size', '96', '--out-dir', str(out)]
    )
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
        assert sim.shape[:2] == (HEAD + 2 * (LABEL + h), 3 * w)
        panels[stem] = [panel(pca, 0, col, h, w) for col in range(3)]
        for img in panels[stem]:  # the image and the two PCA maps: not flat
            assert img.std() > 5
        # checkpoint and random init give different PCA pictures
        diff = panels[stem][1].astype(int) - panels[stem][2]
        assert np.abs(diff).mean() > 5
        diff = panel(sim, 0, 0, h, w).astype(int) - panel(sim, 1, 0, h, w)
        assert np.abs(diff).mean() > 1
    # the two photos give different pictures (compared at one size)
    for a, b in zip(panels['astronaut'], panels['chelsea']):
        b = cv2.resize(b, a.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(a.astype(int) - b).mean() > 5


def test_cv2_figures(tool, tmp_path):
    rng = np.random.default_rng(0)
    red, noise = np.zeros((40, 60, 3), np.float32), rng.random((40, 60, 3))
    red[..., 0] = 1
    path = tool.save_grid(
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


@pytest.fixture(scope='module')
def fpn_setup(tmp_path_factory, tool):
    """A tiny ResNet-18 FPN + towers config and a checkpoint of it."""
    from mmpixpro.registry import MODELS

    root = tmp_path_factory.mktemp('fpn')
    cfg = tiny_config(FPN_CONFIG, root)
    config = str(root / 'fpn_tiny.py')
    cfg.dump(config)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    ckpt = str(root / 'fpn.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return config, ckpt


def test_fpn_levels(tool, fpn_setup, tmp_path):
    config, ckpt = fpn_setup
    model = tool.build_model(config, ckpt)
    assert tool.available_levels(model) == ['P3', 'P4', 'P5', 'P6', 'P7']
    assert tool.default_levels(model) == ['P3', 'P4', 'P5', 'P6']
    img = tool.load_image(SQUARE, [128])
    feats = tool.extract_features(model, tool.preprocess(model, [img]), ['P3', 'P5'])
    assert feats['P3'].shape == (1, 256, 16, 16)  # stride 8
    assert feats['P5'].shape == (1, 256, 4, 4)  # stride 32
    with pytest.raises(ValueError, match=r"unknown level.*'C5'.*'P3', 'P4'"):
        tool.check_levels(model, ['P5', 'C5'])

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
    assert read_png(files[1]).shape == (HEAD + 2 * (LABEL + 64), 64, 3)


def test_errors(tool, checkpoint, fpn_setup, tmp_path):
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
        tool.main([fpn_setup[0], checkpoint, SQUARE, *out])
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
