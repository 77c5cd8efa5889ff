"""mmpixpro.analysis.linear_probe: a 1x1 classifier on frozen features, and
its scores over the classes present."""

import pytest
import torch

from mmpixpro.analysis.linear_probe import confusion, scores, train_probe
from mmpixpro.analysis.probe_data import present_classes


def test_scores_over_present_classes():
    target = torch.tensor([[0, 0, 2, 2], [2, 2, 255, 255]])
    pred = torch.tensor([[0, 2, 2, 2], [2, 0, 5, 0]])
    conf = confusion(pred, target, num_classes=19)
    assert conf.sum() == 6  # the ignored pixels are left out
    assert present_classes(target, 19) == [0, 2]
    res = scores(conf, [0, 2])
    # class 0: tp 1, fp 1, fn 1 -> 1/3; class 2: tp 3, fp 1, fn 1 -> 3/5
    assert res['IoU'] == pytest.approx({0: 1 / 3, 2: 3 / 5})
    assert res['mIoU'] == pytest.approx((1 / 3 + 3 / 5) / 2)
    assert res['aAcc'] == pytest.approx(4 / 6)


def test_probe_training_is_seeded():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(6, 16, 3, 3, generator=gen)
    labels = torch.randint(0, 3, (6, 3, 3), generator=gen)
    labels[0] = 255  # an image without labels is skipped, not a NaN loss
    kwargs = dict(num_classes=19, epochs=3, batch_size=1, lr=0.1, log=None)
    probe_a, loss_a = train_probe(feats, labels, seed=1, **kwargs)
    probe_b, loss_b = train_probe(feats, labels, seed=1, **kwargs)
    probe_c, _ = train_probe(feats, labels, seed=2, **kwargs)
    assert isinstance(probe_a, torch.nn.Conv2d) and probe_a.kernel_size == (1, 1)
    assert loss_a == loss_b and loss_a == loss_a  # equal, and not NaN
    torch.testing.assert_close(probe_a.weight, probe_b.weight)
    assert not torch.allclose(probe_a.weight, probe_c.weight)
