import math

import pytest
import torch
import torch.nn.functional as F

from mmpixpro.models import DenseProjector, PixelPropagationModule


def pixels(*vectors):
    """[1, C, 1, P] map with the given per-pixel vectors."""
    return torch.tensor(vectors, dtype=torch.float32).t()[None, :, None, :]


def test_hand_computed_identity_transform():
    x = pixels([1, 0], [0, 1], [1, 1])
    ppm = PixelPropagationModule(2, gamma=2.0, num_layers=0)
    # cos(x1, x3) = cos(x2, x3) = 1/sqrt(2) -> s = 0.5; cos(x1, x2) = 0.
    r = 1 / math.sqrt(2)
    y1 = torch.tensor([1 + 0.5 * r, 0.5 * r])
    y2 = torch.tensor([0.5 * r, 1 + 0.5 * r])
    y3 = torch.tensor([0.5 + r, 0.5 + r])
    expected = torch.stack([F.normalize(y, dim=0) for y in (y1, y2, y3)], 1)
    out = ppm(x)
    assert out.shape == x.shape
    assert torch.allclose(out[0, :, 0], expected, atol=1e-6)


def test_negative_similarity_is_clipped_and_gamma_sharpens():
    x = pixels([1, 0], [-1, 0.2], [1, 1])
    for gamma in (1.0, 2.0, 4.0):
        ppm = PixelPropagationModule(2, gamma=gamma, num_layers=0)
        sim = ppm.similarity(x)[0]
        assert sim[0, 1] == 0  # cos < 0
        assert torch.allclose(sim[0, 2], torch.tensor(0.5 ** (gamma / 2)))
        assert torch.allclose(sim.diagonal(), torch.ones(3))


def test_one_layer_transform_is_a_biased_conv_on_the_value_only():
    torch.manual_seed(0)
    ppm = PixelPropagationModule(4, num_layers=1)
    assert isinstance(ppm.transform, torch.nn.Conv2d)
    assert ppm.transform.bias is not None
    x = torch.randn(2, 4, 3, 3)
    value = F.normalize(ppm.transform(x).flatten(2), dim=1)
    sim = ppm.similarity(x)  # the similarity uses x, not g(x)
    expected = F.normalize(torch.bmm(value, sim.transpose(1, 2)), dim=1)
    assert torch.allclose(ppm(x).flatten(2), expected, atol=1e-6)


def test_two_layer_transform_and_output_norm():
    ppm = PixelPropagationModule(8, num_layers=2)
    x = torch.randn(2, 8, 5, 4)
    out = ppm(x)
    assert out.shape == x.shape
    assert torch.allclose(out.norm(dim=1), torch.ones(2, 5, 4), atol=1e-5)
    names = {name for name, _ in ppm.named_parameters()}
    assert 'transform.0.bn.weight' in names and 'transform.1.bias' in names


def test_three_layer_transform():
    ppm = PixelPropagationModule(8, num_layers=3)
    convs = [m for m in ppm.transform.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in ppm.transform.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    relus = [m for m in ppm.transform.modules() if isinstance(m, torch.nn.ReLU)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (8, 8, (1, 1))
    ] * 3
    assert len(norms) == 2 and len(relus) == 2
    assert isinstance(ppm.transform[-1], torch.nn.Conv2d)  # no norm after the last
    out = ppm(torch.randn(2, 8, 3, 3))
    assert torch.allclose(out.norm(dim=1), torch.ones(2, 3, 3), atol=1e-5)


def test_gamma_below_one_has_finite_gradients_at_zero_similarity():
    # pixels 1 and 2 are orthogonal, 1 and 3 opposite: s = 0 before the power
    x = pixels([1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, 0, 1]).requires_grad_()
    ppm = PixelPropagationModule(3, gamma=0.5, num_layers=0)
    ppm(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    sim = ppm.similarity(x.detach())[0]
    # (max(cos, 0) + 1e-6) ** 0.5 as in the authors' release
    assert torch.allclose(sim[0, 1], torch.tensor(1e-6**0.5))
    assert torch.allclose(sim[0, 0], torch.tensor((1 + 1e-6) ** 0.5))
    # gamma >= 1 is exact: no epsilon
    assert (
        PixelPropagationModule(3, gamma=2.0, num_layers=0).similarity(x.detach())[
            0, 0, 1
        ]
        == 0
    )


@pytest.mark.parametrize(
    'kwargs, key',
    [
        (dict(gamma=0), 'gamma'),
        (dict(gamma=-1), 'gamma'),
        (dict(num_layers=-1), 'num_layers'),
        (dict(num_layers=1.5), 'num_layers'),
    ],
)
def test_bad_arguments_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        PixelPropagationModule(4, **kwargs)


def test_dense_projector_layers_and_levels():
    proj = DenseProjector(16, hid_channels=32, out_channels=8)
    convs = [m for m in proj.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (16, 32, (1, 1)),
        (32, 8, (1, 1)),
    ]
    assert all(c.bias is not None for c in convs)
    outs = proj((torch.randn(2, 16, 4, 4), torch.randn(2, 16, 2, 3)))
    assert [o.shape for o in outs] == [(2, 8, 4, 4), (2, 8, 2, 3)]
    with pytest.raises(ValueError, match='16 input channels'):
        proj((torch.randn(2, 12, 4, 4),))
