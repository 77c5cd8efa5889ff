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
    loss = PixContrastLoss(temperature=tau).one_way(pred, target, mask)
    assert loss.item() == pytest.approx((l1 + l2) / 2, rel=1e-5)


def test_pixels_without_positives_are_left_out():
    pred = pixels([1, 0], [0, 1])
    target = pixels([1, 0], [0, 1])
    only_first = torch.tensor([[[1, 0], [0, 0]]], dtype=torch.bool)
    both = torch.tensor([[[1, 0], [0, 1]]], dtype=torch.bool)
    loss_fn = PixContrastLoss(temperature=0.3)
    expected = -math.log(math.exp(1 / 0.3) / (math.exp(1 / 0.3) + 1))
    assert loss_fn.one_way(pred, target, only_first).item() == pytest.approx(
        expected, rel=1e-5
    )
    assert loss_fn.one_way(pred, target, both).item() == pytest.approx(
        expected, rel=1e-5
    )
    none = torch.zeros_like(both)
    assert loss_fn.one_way(pred.requires_grad_(), target, none).item() == 0


def test_low_temperature_and_the_pixpro_pairs():
    """PixContrast uses exactly the pixel pairs of PixPro; at a low
    temperature a query whose positive is its most similar key costs ~0."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 3, 3)
    c = torch.tensor([[0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9]])
    mask = pixel_pair_mask(c, c, (3, 3), (3, 3))
    assert torch.equal(mask[0], torch.eye(9, dtype=torch.bool))
    cold = PixContrastLoss(temperature=1e-3).one_way(x, x, mask)
    assert cold.item() < 1e-3
    head = PixelHead(ppm=None, loss=dict(type='PixContrastLoss'))
    out = head.loss((x,), (x,), (x,), (x,), c, c)
    loss_fn = PixContrastLoss()
    # the two directions are averaged (here they are equal)
    assert torch.allclose(out['loss_pixel'], loss_fn.one_way(x, x, mask))


def test_averaged_over_each_images_pixels_then_over_images():
    """Image 1 has two query pixels with a positive, image 2 one: the batch
    loss is the mean of the two per-image means, not the pooled pixel mean."""
    pred = pixels([1, 0], [0, 1]).expand(2, -1, -1, -1)
    target = pixels([1, 0], [0, 1]).expand(2, -1, -1, -1)
    mask = torch.zeros(2, 2, 2, dtype=torch.bool)
    mask[0] = torch.eye(2, dtype=torch.bool)
    mask[1, 0, 1] = True  # image 2: pixel 1's positive is the orthogonal one
    tau = 0.3
    e = lambda c: math.exp(c / tau)  # noqa: E731
    good = -math.log(e(1) / (e(1) + e(0)))  # positive cos 1, negative cos 0
    bad = -math.log(e(0) / (e(1) + e(0)))  # positive cos 0, negative cos 1
    image1, image2 = (good + good) / 2, bad
    loss = PixContrastLoss(temperature=tau).one_way(pred, target, mask)
    assert loss.item() == pytest.approx((image1 + image2) / 2, rel=1e-6)
    pooled = (good + good + bad) / 3
    assert abs(loss.item() - pooled) > 0.1


def test_head_averages_the_two_directions():
    torch.manual_seed(0)
    x1, x2 = torch.randn(2, 8, 3, 3), torch.randn(2, 8, 3, 3)
    c1 = torch.tensor([[0.0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9]])
    c2 = torch.tensor([[0.2, 0.1, 0.9, 1], [0.0, 0.0, 0.6, 0.7]])
    head = PixelHead(ppm=None, loss=dict(type='PixContrastLoss', temperature=0.2))
    out = head.loss((x1,), (x2,), (x1,), (x2,), c1, c2)
    loss_fn = PixContrastLoss(temperature=0.2)
    l12 = loss_fn.one_way(x1, x2, pixel_pair_mask(c1, c2, (3, 3), (3, 3)))
    l21 = loss_fn.one_way(x2, x1, pixel_pair_mask(c2, c1, (3, 3), (3, 3)))
    assert torch.allclose(out['loss_pixel'], (l12 + l21) / 2)
    assert not torch.allclose(l12, l21)
    mask = pixel_pair_mask(c1, c2, (3, 3), (3, 3))
    weighted = PixContrastLoss(temperature=0.2, loss_weight=3.0)
    assert torch.equal(weighted(x1, x2, x1, x2, mask), 3.0 * (l12 + l21) / 2)


def test_bad_temperature():
    with pytest.raises(ValueError, match='temperature'):
        PixContrastLoss(temperature=0)


def test_gradient_is_finite_when_some_pixels_have_no_positive():
    torch.manual_seed(0)
    pred = torch.randn(2, 8, 3, 3, requires_grad=True)
    mask = torch.zeros(2, 9, 9, dtype=torch.bool)
    mask[0, 0, 4] = True  # one positive in the whole batch
    PixContrastLoss().one_way(pred, torch.randn(2, 8, 3, 3), mask).backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[0, :, 0, 0].abs().sum() > 0
    assert pred.grad[1].abs().sum() == 0
