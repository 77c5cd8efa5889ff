import pytest
import torch

from mmpixpro.models import PixelHead, pixel_pair_mask
from mmpixpro.models.heads.pixel_head import feature_spread


def test_loss_is_minus_four_when_branches_agree_on_every_pair():
    # Features constant over pixels: every positive pair has cos = 1.
    vec = torch.randn(2, 16, 1, 1)
    feat = vec.expand(-1, -1, 3, 3).contiguous()
    head = PixelHead(
        ppm=dict(type='PixelPropagationModule', in_channels=16, num_layers=0)
    )
    coords1 = torch.tensor([[0, 0, 1, 1], [0, 0, 0.6, 0.6]])
    coords2 = torch.tensor([[1, 0, 0, 1], [0.2, 0.2, 1, 1]])
    out = head.loss((feat,), (feat,), (feat,), (feat,), coords1, coords2)
    assert torch.allclose(out['loss'], torch.tensor(-4.0), atol=1e-4)
    assert out['num_pos_pairs'] > 0


def test_symmetric_directions_use_the_transposed_mask():
    torch.manual_seed(0)
    head = PixelHead(ppm=None)
    o1, o2, t1, t2 = (torch.randn(2, 8, 3, 3) for _ in range(4))
    c1 = torch.tensor([[0, 0, 0.8, 0.8], [0.1, 0, 0.9, 0.7]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1], [0.9, 0.1, 0.2, 0.8]])
    out = head.loss((o1,), (o2,), (t1,), (t2,), c1, c2)
    mask = pixel_pair_mask(c1, c2, (3, 3), (3, 3))
    loss_fn = head.loss_module
    expected = loss_fn(o1, t2, mask) + loss_fn(o2, t1, mask.transpose(1, 2))
    assert torch.allclose(out['loss'], expected)


def test_levels_are_averaged():
    torch.manual_seed(0)
    head = PixelHead(ppm=None)
    c1 = torch.tensor([[0, 0, 0.8, 0.8]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1]])
    big = [torch.randn(1, 8, 6, 6) for _ in range(4)]
    small = [torch.randn(1, 8, 3, 3) for _ in range(4)]
    both = head.loss(*[(b, s) for b, s in zip(big, small)], c1, c2)['loss']
    one = head.loss(*[(b,) for b in big], c1, c2)['loss']
    two = head.loss(*[(s,) for s in small], c1, c2)['loss']
    assert torch.allclose(both, (one + two) / 2)


def test_bad_threshold_names_the_key():
    with pytest.raises(ValueError, match='pos_threshold'):
        PixelHead(pos_threshold=0)


def test_feature_spread_separates_varied_from_collapsed_features():
    torch.manual_seed(0)
    varied = torch.randn(4, 64, 7, 7)
    collapsed = torch.randn(4, 64, 1, 1).expand(-1, -1, 7, 7)
    assert 0.9 < feature_spread(varied) < 1.1
    assert feature_spread(collapsed) < 1e-5
