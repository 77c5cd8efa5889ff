"""Under fp16 autocast the pixel losses, the PPM similarity power and the
pair sums compute in float32: inputs that overflow (or underflow) in fp16
give the float32 numbers."""

import pytest
import torch

from mmpixpro.models import (
    PixContrastLoss,
    PixelHead,
    PixelPropagationModule,
    PixProLoss,
    pairwise_cosine,
    pixel_pair_mask,
)

FP16 = dict(device_type='cpu', dtype=torch.float16)
P3 = (28, 28)  # 784 pixels: the P3 map of a 224 px view


def aligned(n=2, c=16, shape=P3, spread=0.05, seed=0):
    """Pixel features that all point nearly the same way (one direction per
    image, the same for every seed): cos ~ 1."""
    base = torch.randn(n, c, 1, 1, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(seed + 1)
    return base + spread * torch.randn(n, c, *shape, generator=g)


def boxes():
    c1 = torch.tensor([[0.0, 0.0, 0.7, 0.7], [0.1, 0.2, 0.9, 0.8]])
    c2 = torch.tensor([[0.2, 0.1, 1.0, 0.9], [0.8, 0.0, 0.2, 0.7]])  # flipped
    return c1, c2


def test_pixpro_pair_sums_past_fp16_range():
    """All 784 x 784 pairs positive: the count 614656 and the cosine sum are
    past 65504 (inf in fp16); the loss is -2 cos as in float32."""
    x, t = aligned(), aligned(seed=1)
    mask = torch.ones(2, 784, 784, dtype=torch.bool)
    assert torch.isinf(mask.half().sum(dim=(1, 2))).all()  # the premise
    fp32 = PixProLoss().one_way(x, t, mask)
    with torch.autocast(**FP16):
        low = PixProLoss().one_way(x, t, mask)
    assert low.dtype == torch.float32
    assert abs(low.item() - fp32.item()) < 1e-5
    assert fp32.item() < -1.5  # aligned features: close to the best, -2


def test_pixcontrast_exponential_sums_past_fp16_range():
    """tau = 0.1 at P3: each row sums 784 terms exp(cos / 0.1) ~ 22026,
    inf in fp16; the loss and its gradient equal float32's."""
    x = aligned().requires_grad_()
    t = aligned(seed=1)
    c1, c2 = boxes()
    mask = pixel_pair_mask(c1, c2, P3, P3)
    cos = pairwise_cosine(x.detach(), t)
    assert torch.isinf(torch.exp(cos.half() / 0.1).sum(dim=2)).all()  # premise
    loss = PixContrastLoss(temperature=0.1)
    fp32 = loss.one_way(x, t, mask)
    (grad32,) = torch.autograd.grad(fp32, x)
    with torch.autocast(**FP16):
        low = loss.one_way(x, t, mask)
    (grad16,) = torch.autograd.grad(low, x)
    assert low.dtype == torch.float32
    assert abs(low.item() - fp32.item()) < 1e-5
    assert torch.allclose(grad16, grad32, atol=1e-7, rtol=1e-4)


def test_ppm_power_underflowing_in_fp16():
    """gamma = 8 on cosines ~ 0.1: s = cos^8 ~ 1e-8 is 0 in fp16; the
    propagation (g = identity) equals float32's and is float32."""
    torch.manual_seed(0)
    x = torch.randn(2, 64, *P3)  # 64-dim random pixels: |cos| ~ 0.1
    ppm = PixelPropagationModule(64, gamma=8.0, num_layers=0)
    sim = ppm.similarity(x)
    tiny = (sim > 0) & (sim < 1e-8)
    assert tiny.any() and (sim.half()[tiny] == 0).all()  # the premise
    fp32 = ppm(x)
    with torch.autocast(**FP16):
        low = ppm(x)
        sim_low = ppm.similarity(x)
    assert low.dtype == sim_low.dtype == torch.float32
    assert torch.allclose(low, fp32, atol=1e-6)
    assert torch.equal(sim_low, sim)


@pytest.mark.parametrize(
    'loss',
    [
        dict(type='PixProLoss'),
        dict(type='PixContrastLoss', temperature=0.1),
    ],
)
def test_head_under_fp16_autocast_matches_fp32(loss):
    """The whole head (pair rule, PPM with its 1x1 conv, loss, both
    directions, dense and chunked) on P3 maps of aligned features with T = 100
    (every pair positive): finite, float32, within 1e-3 of float32 (the 1x1
    conv of g runs in fp16), gradients finite."""
    c1, c2 = boxes()
    for max_elements in (None, 2 * 100 * 784):
        torch.manual_seed(0)
        ppm = dict(type='PixelPropagationModule', in_channels=16)
        head = PixelHead(
            loss=loss, ppm=ppm, pos_threshold=100.0, max_elements=max_elements
        )
        feats = [aligned(seed=s).requires_grad_() for s in range(4)]
        levels = [(f,) for f in feats]
        fp32 = head.loss(*levels, c1, c2)['loss_pixel']
        with torch.autocast(**FP16):
            out = head.loss(*levels, c1, c2)
        low = out['loss_pixel']
        low.backward()
        assert low.dtype == torch.float32 and torch.isfinite(low)
        assert out['num_pos_pairs'].item() == 784 * 784
        assert abs(low.item() - fp32.item()) < 1e-3, max_elements
        assert all(torch.isfinite(f.grad).all() for f in feats[:2])
