import math

import pytest
import torch
import torch.nn.functional as F

from mmpixpro.models import InstanceHead

NECK = dict(
    type='mmpretrain.NonLinearNeck',
    hid_channels=16,
    out_channels=8,
    norm_cfg=dict(type='BN1d'),
)


def head(**kwargs):
    return InstanceHead(
        projector=dict(NECK, in_channels=32, with_avg_pool=True),
        predictor=dict(NECK, in_channels=8, with_avg_pool=False),
        **kwargs,
    )


def test_byol_value():
    torch.manual_seed(0)
    h = head()
    c5 = torch.randn(4, 32, 3, 3), torch.randn(4, 32, 3, 3)
    q1, q2 = h.predict_online(c5[0]), h.predict_online(c5[1])
    # keys equal to the predictions of the other view -> best value -4
    out = h.loss(c5[0], c5[1], q2.detach(), q1.detach())
    assert out['loss_instance'].item() == pytest.approx(-4.0, abs=1e-5)
    keys = torch.randn(4, 8), torch.randn(4, 8)
    out = h.loss(c5[0], c5[1], *keys)
    expected = -2 * (
        F.cosine_similarity(q1, keys[1]).mean()
        + F.cosine_similarity(q2, keys[0]).mean()
    )
    assert torch.allclose(out['loss_instance'], expected, atol=1e-6)


def test_simclr_value_and_alpha():
    torch.manual_seed(0)
    h = head(loss_type='simclr', temperature=0.5, loss_weight=0.5)
    q = torch.tensor([[1.0, 0], [0, 1]])
    k = torch.tensor([[1.0, 0], [1, 1]])
    e = lambda c: math.exp(c / 0.5)  # noqa: E731
    r = 1 / math.sqrt(2)
    # row 1: positive cos 1, negative cos r; row 2: positive cos r, negative 0
    expected = (-math.log(e(1) / (e(1) + e(r))) - math.log(e(r) / (e(r) + e(0)))) / 2
    assert h.one_way(q, k).item() == pytest.approx(expected, rel=1e-5)
    c5 = torch.randn(2, 32, 2, 2), torch.randn(2, 32, 2, 2)
    keys = torch.randn(2, 8), torch.randn(2, 8)
    total = h.one_way(h.predict_online(c5[0]), keys[1]) + h.one_way(
        h.predict_online(c5[1]), keys[0]
    )
    assert torch.allclose(h.loss(*c5, *keys)['loss_instance'], 0.5 * total)


@pytest.mark.parametrize(
    'kwargs, key',
    [
        (dict(loss_weight=-0.1), 'alpha'),
        (dict(loss_type='x'), 'loss_type'),
        (dict(temperature=0), 'temperature'),
    ],
)
def test_bad_arguments(kwargs, key):
    with pytest.raises(ValueError, match=key):
        head(**kwargs)
