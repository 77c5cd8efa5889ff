import math

import pytest
import torch
import torch.nn.functional as F

from mmpixpro.models import InfoNCELoss, InstanceHead

PROJ = dict(type='DenseProjector', hid_channels=16, out_channels=8)
BYOL_LOSS = dict(
    type='mmpretrain.CosineSimilarityLoss', shift_factor=0.0, scale_factor=2.0
)


def head(predictor=True, **kwargs):
    return InstanceHead(
        projector=dict(PROJ, in_channels=32),
        predictor=dict(PROJ, in_channels=8) if predictor else None,
        **kwargs,
    )


def test_infonce_hand_computed():
    q = torch.tensor([[1.0, 0], [0, 2]])  # normalised inside
    k = torch.tensor([[1.0, 0], [1, 1]])
    tau = 0.5
    e = lambda c: math.exp(c / tau)  # noqa: E731
    r = 1 / math.sqrt(2)
    # query 1: positive k1 (cos 1), negative k2 (cos r)
    # query 2: positive k2 (cos r), negative k1 (cos 0)
    expected = (-math.log(e(1) / (e(1) + e(r))) - math.log(e(r) / (e(r) + e(0)))) / 2
    assert InfoNCELoss(temperature=tau)(q, k).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_infonce_keys_get_no_gradient():
    q = torch.randn(3, 4, requires_grad=True)
    k = torch.randn(3, 4, requires_grad=True)
    InfoNCELoss()(q, k).backward()
    assert q.grad is not None and k.grad is None


def test_pooling_comes_after_the_dense_projection():
    """The projector (1x1 convs with BN, ReLU) runs on every C5 cell; the
    average is taken afterwards, which differs from projecting the average."""
    torch.manual_seed(0)
    h = head(predictor=False).eval()
    c5 = torch.randn(2, 32, 3, 3)
    cells = h.projector((c5,))[0]  # [2, 8, 3, 3]
    expected = torch.stack([cells[n].flatten(1).sum(1) / 9 for n in range(2)])
    assert torch.allclose(h.predict_online(c5), expected, atol=1e-6)
    pooled_first = h.projector((c5.mean(dim=(2, 3), keepdim=True),))[0].flatten(1)
    assert not torch.allclose(h.predict_online(c5), pooled_first, atol=1e-3)
    assert torch.allclose(h.keys(h.projector, c5), expected, atol=1e-6)


def test_simclr_star_loss_both_directions_and_alpha():
    torch.manual_seed(0)
    h = head(
        predictor=False, loss=dict(type='InfoNCELoss', temperature=0.5), loss_weight=0.5
    )
    c5 = torch.randn(2, 32, 2, 2), torch.randn(2, 32, 2, 2)
    k1, k2 = torch.randn(2, 8), torch.randn(2, 8)
    q1, q2 = h.predict_online(c5[0]), h.predict_online(c5[1])

    def one_way(q, k):  # written out: softmax cross-entropy on cos / tau
        cos = F.normalize(q, dim=1) @ F.normalize(k, dim=1).t()
        logp = (cos / 0.5).log_softmax(dim=1)
        return -(logp[0, 0] + logp[1, 1]) / 2

    expected = 0.5 * (one_way(q1, k2) + one_way(q2, k1))
    assert torch.allclose(h.loss(*c5, k1, k2)['loss_instance'], expected, atol=1e-6)


def test_byol_style_value():
    torch.manual_seed(0)
    h = head(loss=BYOL_LOSS)
    c5 = torch.randn(4, 32, 3, 3), torch.randn(4, 32, 3, 3)
    q1, q2 = h.predict_online(c5[0]), h.predict_online(c5[1])
    # keys equal to the predictions of the other view -> best value -4
    out = h.loss(c5[0], c5[1], q2.detach() * 3, q1.detach())
    assert out['loss_instance'].item() == pytest.approx(-4.0, abs=1e-5)
    k1, k2 = torch.randn(4, 8), torch.randn(4, 8)
    cos = lambda a, b: (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))  # noqa: E731
    expected = -2 * (cos(q1, k2).mean() + cos(q2, k1).mean())
    assert torch.allclose(h.loss(*c5, k1, k2)['loss_instance'], expected, atol=1e-6)


@pytest.mark.parametrize(
    'kwargs, key',
    [
        (dict(loss_weight=-0.1), 'alpha'),
        (dict(loss=dict(type='InfoNCELoss', temperature=0)), 'temperature'),
    ],
)
def test_bad_arguments(kwargs, key):
    with pytest.raises(ValueError, match=key):
        head(**kwargs)
