import math

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
    assert torch.allclose(out['loss_pixel'], torch.tensor(-4.0), atol=1e-4)
    assert out['num_pos_pairs'] > 0


def cell_centres(box, h, w):
    """Written out: centres of an h x w grid over a (possibly flipped) box."""
    x1, y1, x2, y2 = box
    bw, bh = (x2 - x1) / w, (y2 - y1) / h
    return [
        (x1 + (c + 0.5) * bw, y1 + (r + 0.5) * bh) for r in range(h) for c in range(w)
    ]


def hand_pixpro_direction(pred, target, box_p, box_t, threshold=0.7):
    """-2 x mean over images of the mean cosine over positive pairs, with
    the pair rule written out cell by cell (Eq. 1 and 5)."""
    total = 0.0
    n, _, h, w = pred.shape
    for i in range(n):
        cp, ct = (
            cell_centres(box_p[i].tolist(), h, w),
            cell_centres(box_t[i].tolist(), h, w),
        )
        diag = max(
            math.hypot(
                (box_p[i][2] - box_p[i][0]) / w, (box_p[i][3] - box_p[i][1]) / h
            ),
            math.hypot(
                (box_t[i][2] - box_t[i][0]) / w, (box_t[i][3] - box_t[i][1]) / h
            ),
        )
        p, t = pred[i].flatten(1), target[i].flatten(1)
        cosines = [
            float(torch.dot(p[:, a], t[:, b]) / (p[:, a].norm() * t[:, b].norm()))
            for a in range(h * w)
            for b in range(h * w)
            if math.dist(cp[a], ct[b]) / diag < threshold
        ]
        assert cosines  # these boxes overlap
        total += sum(cosines) / (len(cosines) + 1e-6)
    return -2 * total / n


def test_symmetric_directions_use_the_transposed_mask():
    """The head's loss equals both directions written out by hand: view 1's
    prediction against view 2's target and the reverse, each with its own
    pair rule (the transposed mask)."""
    torch.manual_seed(0)
    head = PixelHead(ppm=None)
    o1, o2, t1, t2 = (torch.randn(2, 8, 3, 3) for _ in range(4))
    c1 = torch.tensor([[0, 0, 0.8, 0.8], [0.1, 0, 0.9, 0.7]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1], [0.9, 0.1, 0.2, 0.8]])  # image 2 flipped
    out = head.loss((o1,), (o2,), (t1,), (t2,), c1, c2)
    expected = hand_pixpro_direction(o1, t2, c1, c2) + hand_pixpro_direction(
        o2, t1, c2, c1
    )
    assert out['loss_pixel'].item() == pytest.approx(expected, abs=1e-5)
    # and the mask of direction 2 -> 1 is the transpose of 1 -> 2
    mask = pixel_pair_mask(c1, c2, (3, 3), (3, 3))
    assert torch.equal(pixel_pair_mask(c2, c1, (3, 3), (3, 3)), mask.transpose(1, 2))


def test_levels_are_averaged():
    torch.manual_seed(0)
    head = PixelHead(ppm=None)
    c1 = torch.tensor([[0, 0, 0.8, 0.8]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1]])
    big = [torch.randn(1, 8, 6, 6) for _ in range(4)]
    small = [torch.randn(1, 8, 3, 3) for _ in range(4)]
    both = head.loss(*[(b, s) for b, s in zip(big, small)], c1, c2)['loss_pixel']
    one = head.loss(*[(b,) for b in big], c1, c2)['loss_pixel']
    two = head.loss(*[(s,) for s in small], c1, c2)['loss_pixel']
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
