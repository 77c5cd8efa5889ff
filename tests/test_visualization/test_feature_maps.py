"""mmpixpro.visualization.feature_maps: PCA colours and similarity maps."""

import numpy as np
import pytest
import torch

from mmpixpro.visualization import feature_cell, pca_rgb, similarity_map


def test_pca_rgb_separates_two_regions():
    feat = torch.zeros(8, 4, 6)
    feat[:, :, :3] = torch.arange(8.0)[:, None, None]  # left half: one vector
    feat[:, :, 3:] = -torch.arange(8.0)[:, None, None]  # right half: another
    rgb = pca_rgb(feat + 0.01 * torch.randn(8, 4, 6))
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    first = rgb[..., 0]
    # The first component splits the halves: one at 0, the other at 1.
    assert abs(first[:, :3].mean() - first[:, 3:].mean()) > 0.95
    # Same result for a rescaled, shifted map (the PCA is per map).
    np.testing.assert_allclose(pca_rgb(3 * feat + 5), pca_rgb(feat), atol=1e-5)


def test_pca_rgb_of_real_features(demo_features):
    ckpt, rand = demo_features['checkpoint'], demo_features['random']
    assert ckpt.shape == rand.shape == (2, 512, 3, 3)
    maps = {k: [pca_rgb(f) for f in v] for k, v in demo_features.items()}
    for rgb in maps['checkpoint'] + maps['random']:
        assert rgb.shape == (3, 3, 3)
        assert rgb.min() >= 0 and rgb.max() <= 1
        # min-max normalised: every component spans [0, 1]
        np.testing.assert_allclose(rgb.reshape(-1, 3).min(0), 0, atol=1e-6)
        np.testing.assert_allclose(rgb.reshape(-1, 3).max(0), 1, atol=1e-6)
    for a, b in zip(maps['checkpoint'], maps['random']):
        assert np.abs(a - b).max() > 0.05  # pre-training changed the features
    assert np.abs(maps['checkpoint'][0] - maps['checkpoint'][1]).max() > 0.05


def test_similarity_is_one_at_the_query(demo_features):
    feat = demo_features['checkpoint'][1]  # [512, 3, 3] of the 96 x 96 input
    for point, cell in [((0, 0), (0, 0)), ((50, 10), (0, 1)), ((95, 95), (2, 2))]:
        assert feature_cell(point, (96, 96), (3, 3)) == cell
        sim = similarity_map(feat, point, (96, 96))
        assert sim.shape == (3, 3)
        assert sim.min() >= -1 and sim.max() <= 1
        assert sim[cell] == pytest.approx(1, abs=1e-5)
        assert sim[cell] == sim.max()
        assert np.sum(sim > 1 - 1e-5) < sim.size  # not a constant map
    with pytest.raises(ValueError, match='outside'):
        similarity_map(feat, (96, 10), (96, 96))
