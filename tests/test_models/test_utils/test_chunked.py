"""The memory-bounded paths equal the dense ones: losses and gradients."""

import pytest
import torch

from mmpixpro.models import PixelHead, PixelPropagationModule


def random_inputs(seed, n=3, c=16, shape1=(9, 7), shape2=(8, 8)):
    torch.manual_seed(seed)
    feats = [
        torch.randn(n, c, *shape, dtype=torch.float64, requires_grad=True)
        for shape in (shape1, shape2, shape1, shape2)
    ]
    xy = torch.rand(n, 2, 2, dtype=torch.float64) * 0.4
    coords = torch.cat([xy, xy + 0.5], dim=-1)
    coords[0, 1] = coords[0, 1][[2, 1, 0, 3]]  # one flipped view
    coords[2, 1] = torch.tensor([0.95, 0.95, 1.0, 1.0])  # tiny overlap: few pairs
    return feats, coords[:, 0], coords[:, 1]


def loss_and_grads(head, feats, c1, c2):
    for f in feats:
        f.grad = None
    out = head.loss((feats[0],), (feats[1],), (feats[2],), (feats[3],), c1, c2)
    out['loss_pixel'].backward()
    params = [p.grad.clone() for p in head.parameters() if p.grad is not None]
    for p in head.parameters():
        p.grad = None
    return out, [f.grad.clone() for f in feats[:2]], params


@pytest.mark.parametrize(
    'loss',
    [
        dict(type='PixProLoss'),
        dict(type='PixProLoss', skip_empty=True),
        dict(type='PixContrastLoss'),
    ],
)
@pytest.mark.parametrize('num_layers', [0, 1])
def test_chunked_head_equals_dense(loss, num_layers):
    feats, c1, c2 = random_inputs(0)
    ppm = dict(type='PixelPropagationModule', in_channels=16, num_layers=num_layers)
    dense = PixelHead(loss=loss, ppm=ppm, max_elements=None)
    # 3 x 63 x 64 pairs; blocks of at most 500 elements: chunks of 2 rows.
    chunked = PixelHead(loss=loss, ppm=ppm, max_elements=500)
    assert chunked.ppm.max_elements == 500 and dense.ppm.max_elements is None
    chunked.load_state_dict(dense.state_dict())
    dense.double(), chunked.double()
    out_d, grads_d, params_d = loss_and_grads(dense, feats, c1, c2)
    out_c, grads_c, params_c = loss_and_grads(chunked, feats, c1, c2)
    assert torch.allclose(out_c['loss_pixel'], out_d['loss_pixel'], rtol=0, atol=1e-10)
    assert torch.equal(out_c['num_pos_pairs'], out_d['num_pos_pairs'])
    for a, b in zip(grads_c + params_c, grads_d + params_d):
        assert torch.allclose(a, b, rtol=0, atol=1e-10)


def test_chunked_ppm_equals_dense_in_float32():
    torch.manual_seed(1)
    x = torch.randn(2, 32, 12, 12, requires_grad=True)
    dense = PixelPropagationModule(32, max_elements=None)
    chunked = PixelPropagationModule(32, max_elements=2 * 144 * 10)
    chunked.load_state_dict(dense.state_dict())
    y_d = dense(x)
    (y_d * torch.arange(y_d.numel()).view_as(y_d).sin()).sum().backward()
    g_d = x.grad.clone()
    x.grad = None
    y_c = chunked(x)
    (y_c * torch.arange(y_c.numel()).view_as(y_c).sin()).sum().backward()
    assert torch.allclose(y_c, y_d, atol=1e-5)
    assert torch.allclose(x.grad, g_d, atol=1e-5)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('max_elements', [None, 500])
def test_autocast_loss_is_finite_and_close_to_fp32(dtype, max_elements):
    torch.manual_seed(0)
    feats = [torch.randn(3, 16, *s, requires_grad=True) for s in ((9, 7), (8, 8)) * 2]
    c1 = torch.tensor([[0.0, 0, 0.6, 0.6], [0.1, 0.1, 0.8, 0.7], [0.2, 0, 0.9, 0.9]])
    c2 = torch.tensor([[0.3, 0.2, 1, 1], [0.7, 0.1, 0.2, 0.9], [0.1, 0.1, 0.7, 0.8]])
    ppm = dict(type='PixelPropagationModule', in_channels=16)
    head = PixelHead(ppm=ppm, max_elements=max_elements)
    levels = [(f,) for f in feats]
    fp32 = head.loss(*levels, c1, c2)['loss_pixel']
    with torch.autocast('cpu', dtype=dtype):
        low = head.loss(*levels, c1, c2)['loss_pixel']
    low.float().backward()
    assert torch.isfinite(low) and all(torch.isfinite(f.grad).all() for f in feats[:2])
    # Stated tolerance: 2e-2 absolute on a loss in [-4, 4] (8-bit mantissa bf16).
    assert abs(low.float().item() - fp32.item()) < 2e-2
