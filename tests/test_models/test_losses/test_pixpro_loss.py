import math

import pytest
import torch

from mmpixpro.models import PixProLoss


def pixels(*vectors):
    return torch.tensor(vectors, dtype=torch.float32).t()[None, :, None, :]


def test_hand_computed_value():
    pred = pixels([1, 0], [0, 1])
    target = pixels([2, 0], [1, 1])  # normalised inside
    mask = torch.tensor([[[1, 1], [0, 0]]], dtype=torch.bool)
    # pairs (p1, t1): cos 1; (p1, t2): cos 1/sqrt(2); mean over 2 pairs.
    expected = -2 * (1 + 1 / math.sqrt(2)) / (2 + 1e-6)
    assert torch.allclose(PixProLoss()(pred, target, mask), torch.tensor(expected))


def test_perfect_agreement_is_minus_two_per_direction():
    torch.manual_seed(0)
    x = torch.randn(3, 8, 4, 4)
    mask = torch.eye(16, dtype=torch.bool).expand(3, -1, -1)
    loss = PixProLoss()(x, x * 3.0, mask)
    assert torch.allclose(loss, torch.tensor(-2.0), atol=1e-5)


def test_images_without_pairs_are_skipped_by_default_or_count_as_zero():
    x = pixels([1, 0], [0, 1]).expand(2, -1, -1, -1)
    mask = torch.zeros(2, 2, 2, dtype=torch.bool)
    mask[0] = torch.eye(2, dtype=torch.bool)  # image 1 has no pair
    reference = PixProLoss(skip_empty=False)(x, x, mask)
    paper = PixProLoss()(x, x, mask)
    assert torch.allclose(reference, torch.tensor(-1.0), atol=1e-5)
    assert torch.allclose(paper, torch.tensor(-2.0), atol=1e-5)
    none = torch.zeros_like(mask)
    zero = PixProLoss()(x.clone().requires_grad_(), x, none)
    assert zero.item() == 0 and zero.requires_grad


def test_gradient_flows_to_pred_only_through_pairs():
    pred = torch.randn(1, 4, 2, 2, requires_grad=True)
    target = torch.randn(1, 4, 2, 2)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 0, 3] = True
    PixProLoss()(pred, target, mask).backward()
    grad = pred.grad.flatten(2)[0]
    assert grad[:, 0].abs().sum() > 0
    assert grad[:, 1:].abs().sum() == 0


def test_mask_shape_is_checked():
    x = torch.randn(1, 4, 2, 2)
    with pytest.raises(ValueError, match='pos_mask'):
        PixProLoss()(x, x, torch.ones(1, 4, 3, dtype=torch.bool))
