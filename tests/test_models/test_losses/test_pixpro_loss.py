import math

import pytest
import torch

from mmpixpro.models import PixelPairs, PixProLoss, pixel_pair_mask


def pixels(*vectors):
    return torch.tensor(vectors, dtype=torch.float32).t()[None, :, None, :]


def test_hand_computed_value():
    pred = pixels([1, 0], [0, 1])
    target = pixels([2, 0], [1, 1])  # normalised inside
    mask = torch.tensor([[[1, 1], [0, 0]]], dtype=torch.bool)
    # pairs (p1, t1): cos 1; (p1, t2): cos 1/sqrt(2); mean over 2 pairs.
    expected = -2 * (1 + 1 / math.sqrt(2)) / (2 + 1e-6)
    assert torch.allclose(
        PixProLoss().one_way(pred, target, mask), torch.tensor(expected)
    )


def test_perfect_agreement_is_minus_two_per_direction():
    torch.manual_seed(0)
    x = torch.randn(3, 8, 4, 4)
    mask = torch.eye(16, dtype=torch.bool).expand(3, -1, -1)
    loss = PixProLoss().one_way(x, x * 3.0, mask)
    assert torch.allclose(loss, torch.tensor(-2.0), atol=1e-5)


def test_images_without_pairs_are_skipped_by_default_or_count_as_zero():
    x = pixels([1, 0], [0, 1]).expand(2, -1, -1, -1)
    mask = torch.zeros(2, 2, 2, dtype=torch.bool)
    mask[0] = torch.eye(2, dtype=torch.bool)  # image 1 has no pair
    reference = PixProLoss(skip_empty=False).one_way(x, x, mask)
    paper = PixProLoss().one_way(x, x, mask)
    assert torch.allclose(reference, torch.tensor(-1.0), atol=1e-5)
    assert torch.allclose(paper, torch.tensor(-2.0), atol=1e-5)
    none = torch.zeros_like(mask)
    zero = PixProLoss().one_way(x.clone().requires_grad_(), x, none)
    assert zero.item() == 0 and zero.requires_grad


def test_gradient_flows_to_pred_only_through_pairs():
    pred = torch.randn(1, 4, 2, 2, requires_grad=True)
    target = torch.randn(1, 4, 2, 2)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 0, 3] = True
    PixProLoss().one_way(pred, target, mask).backward()
    grad = pred.grad.flatten(2)[0]
    assert grad[:, 0].abs().sum() > 0
    assert grad[:, 1:].abs().sum() == 0


def test_mask_shape_is_checked():
    x = torch.randn(1, 4, 2, 2)
    with pytest.raises(ValueError, match='pos_mask'):
        PixProLoss()(x, x, x, x, torch.ones(1, 4, 3, dtype=torch.bool))


def test_one_call_adds_both_directions_times_loss_weight():
    """``loss(pred1, pred2, target1, target2, pos_mask)``: view 1's
    prediction against view 2's target with the mask, view 2's against view
    1's with the transposed mask, added (Eq. 5 both ways, best -4), times
    ``loss_weight``; with the pair rule instead of a mask, the same number."""
    torch.manual_seed(0)
    p1, p2, t1, t2 = (torch.randn(2, 8, 3, 3) for _ in range(4))
    c1 = torch.tensor([[0, 0, 0.8, 0.8], [0.1, 0, 0.9, 0.7]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1], [0.9, 0.1, 0.2, 0.8]])
    mask = pixel_pair_mask(c1, c2, (3, 3), (3, 3))
    one = PixProLoss()
    both = one.one_way(p1, t2, mask) + one.one_way(p2, t1, mask.transpose(1, 2))
    assert torch.equal(one(p1, p2, t1, t2, mask), both)
    pairs = PixelPairs(c1, c2, (3, 3), (3, 3), 0.7)
    assert torch.equal(one(p1, p2, t1, t2, pairs), both)
    weighted = PixProLoss(loss_weight=0.5)(p1, p2, t1, t2, mask)
    assert torch.equal(weighted, 0.5 * both)
    with pytest.raises(ValueError, match='loss_weight'):
        PixProLoss(loss_weight=-1.0)
