"""The fused momentum update gives mmpretrain's CosineEMA numbers."""

import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.models import CosineEMA, ResNet

from mmpixpro.models import FusedCosineEMA


def perturb(model, scale=1e-2):
    """What an optimizer step does between two updates: move every weight
    and BN statistic."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.dtype.is_floating_point:
                t.add_(torch.randn_like(t) * scale)
            else:
                t.add_(1)


@pytest.mark.parametrize(
    'options',
    [dict(), dict(interval=2), dict(update_buffers=True, end_momentum=0.001)],
)
def test_fused_update_equals_cosine_ema(options):
    """Seven updates of a narrow channels_last ResNet-18 copy (k = 0 copies,
    then the cosine schedule with K = 7): the same state dict keys as mmpretrain's
    per-tensor update; buffers and the step counter equal, parameters within
    float rounding (lerp against mul + add: 1e-6 relative, stated)."""
    MessageHub.get_current_instance().update_info('max_iters', 7)
    torch.manual_seed(0)
    online = ResNet(depth=18, base_channels=16).to(memory_format=torch.channels_last)
    reference = CosineEMA(online, momentum=0.01, **options)
    fused = FusedCosineEMA(online, momentum=0.01, **options)
    perturb(fused.module, 0.5)  # k = 0 must overwrite the copy
    for _ in range(7):
        perturb(online)
        reference.update_parameters(online)
        fused.update_parameters(online)
        state, expected = fused.state_dict(), reference.state_dict()
        assert state.keys() == expected.keys()
        for key, value in expected.items():
            if value.dtype.is_floating_point and key != 'steps':
                assert torch.allclose(state[key], value, rtol=1e-6, atol=1e-7), key
            else:
                assert torch.equal(state[key], value), key
    assert int(fused.steps) == 7
    # an average, not a copy (the equality above is not trivially true)
    assert not torch.equal(fused.module.conv1.weight, online.conv1.weight)


def test_momentum_follows_the_papers_tau():
    """tau_k = 1 - 0.01 (cos(pi k / K) + 1) / 2, read from the step counter."""
    MessageHub.get_current_instance().update_info('max_iters', 100)
    ema = FusedCosineEMA(torch.nn.Linear(2, 2), momentum=0.01)
    for k in (0, 25, 50, 100):
        ema.steps.fill_(k)
        tau = 1 - ema.momentum_at(ema.steps)
        expected = 1 - 0.01 * (torch.cos(torch.tensor(torch.pi * k / 100)) + 1) / 2
        assert abs(tau - expected.item()) < 1e-7


def test_one_update_is_the_formula():
    """avg <- (1 - m) avg + m src, m = 0.01 (cos(pi / 4) + 1) / 2 at k = 1."""
    MessageHub.get_current_instance().update_info('max_iters', 4)
    src = torch.nn.Linear(3, 2)
    ema = FusedCosineEMA(src, momentum=0.01)
    ema.update_parameters(src)  # k = 0: copy
    old = copy.deepcopy(ema.module.weight.detach())
    with torch.no_grad():
        src.weight.add_(1.0)
    ema.update_parameters(src)
    m = 0.01 * (torch.cos(torch.tensor(torch.pi / 4)).item() + 1) / 2
    expected = (1 - m) * old + m * src.weight.detach()
    assert torch.allclose(ema.module.weight, expected, atol=1e-7)
    assert not torch.allclose(ema.module.weight, old)
