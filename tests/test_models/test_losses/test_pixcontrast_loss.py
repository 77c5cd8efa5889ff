import math

import pytest
import torch

from mmpixpro.models import PixContrastLoss, PixelHead, pixel_pair_mask


def pixels(*vectors):
    return torch.tensor(vectors, dtype=torch.float32).t()[None, :, None, :]


def test_hand_computed_infonce():
    pred = pixels([1, 0], [0, 1])
    target = pixels([1, 0], [1, 1], [0, -1])
    r = 1 / math.sqrt(2)
    tau = 0.5
    # pixel 1: cos to targets (1, r, 0), positives {t1, t2}
    # pixel 2: cos to targets (0, r, -1), positive {t3}
    mask = torch.tensor([[[1, 1, 0], [0, 0, 1]]], dtype=torch.bool)
    e = lambda c: math.exp(c / tau)  # noqa: E731
    l1 = -math.log((e(1) + e(r)) / (e(1) + e(r) + e(0)))
    l2 = -math.log(e(-1) / (e(0) + e(r) + e(-1)))
    loss = PixContrastLoss(temperature=tau)(pred, target, mask)
    assert loss.item() == pytest.approx((l1 + l2) / 2, rel=1e-5)


def test_pixels_without_positives_are_left_out():
    pred = pixels([1, 0], [0, 1])
    target = pixels([1, 0], [0, 1])
    only_first = torch.tensor([[[1, 0], [0, 0]]], dtype=torch.bool)
    both = torch.tensor([[[1, 0], [0, 1]]], dtype=torch.bool)
    loss_fn = PixContrastLoss(temperature=0.3)
    expected = -math.log(math.exp(1 / 0.3) / (math.exp(1 / 0.3) + 1))
    assert loss_fn(pred, target, only_first).item() == pytest.approx(expected, rel=1e-5)
    assert loss_fn(pred, target, both).item() == pytest.approx(expected, rel=1e-5)
    none = torch.zeros_like(both)
    assert loss_fn(pred.requires_grad_(), target, none).item() == 0


def test_low_temperature_and_the_pixpro_pairs():
    """PixContrast uses exactly the pixel pairs of PixPro; at a low
    temperature a query whose positive is its most similar key costs ~0."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 3, 3)
    c = torch.tensor([[0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9]])
    mask = pixel_pair_mask(c, c, (3, 3), (3, 3))
    assert torch.equal(mask[0], torch.eye(9, dtype=torch.bool))
    cold = PixContrastLoss(temperature=1e-3)(x, x, mask)
    assert cold.item() < 1e-3
    head = PixelHead(ppm=None, loss=dict(type='PixContrastLoss'))
    out = head.loss((x,), (x,), (x,), (x,), c, c)
    loss_fn = PixContrastLoss()
    expected = 2 * loss_fn(x, x, mask)
    assert torch.allclose(out['loss'], expected)


def test_bad_temperature():
    with pytest.raises(ValueError, match='temperature'):
        PixContrastLoss(temperature=0)


def test_gradient_is_finite_when_some_pixels_have_no_positive():
    torch.manual_seed(0)
    pred = torch.randn(2, 8, 3, 3, requires_grad=True)
    mask = torch.zeros(2, 9, 9, dtype=torch.bool)
    mask[0, 0, 4] = True  # one positive in the whole batch
    PixContrastLoss()(pred, torch.randn(2, 8, 3, 3), mask).backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[0, :, 0, 0].abs().sum() > 0
    assert pred.grad[1].abs().sum() == 0
