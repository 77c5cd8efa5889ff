import copy

import pytest
import torch
from mmpretrain.models import ResNet

from mmpixpro.engine import PixProLARS


def test_one_step_matches_the_formula():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3))
    b = torch.nn.Parameter(torch.randn(4))
    w0, b0 = w.detach().clone(), b.detach().clone()
    gw, gb = torch.randn(4, 3), torch.randn(4)
    w.grad, b.grad = gw.clone(), gb.clone()
    lr, wd, eta, mom = 0.5, 0.1, 0.001, 0.9
    opt = PixProLARS([w, b], lr=lr, momentum=mom, weight_decay=wd, eta=eta)
    opt.step()
    # 2-D weight: decay added before the trust ratio.
    u = gw + wd * w0
    u = eta * w0.norm() / u.norm() * u
    assert torch.allclose(w.detach(), w0 - lr * u, atol=1e-7)
    # 1-D bias: no decay, no adaptation.
    assert torch.allclose(b.detach(), b0 - lr * gb, atol=1e-7)

    # Second step: momentum buffer, lr applied outside it.
    w1 = w.detach().clone()
    gw2 = torch.randn(4, 3)
    w.grad, b.grad = gw2.clone(), None
    opt.param_groups[0]['lr'] = 0.25
    opt.step()
    u2 = gw2 + wd * w1
    u2 = eta * w1.norm() / u2.norm() * u2
    buf = mom * u + u2
    assert torch.allclose(w.detach(), w1 - 0.25 * buf, atol=1e-7)


def test_excluded_group_and_zero_weights():
    w = torch.nn.Parameter(torch.zeros(2, 2))
    w.grad = torch.ones(2, 2)
    opt = PixProLARS([w], lr=1.0, momentum=0, weight_decay=0.1, eta=0.001)
    opt.step()  # ||w|| = 0: trust ratio 1
    assert torch.allclose(w.detach(), -torch.ones(2, 2))
    v = torch.nn.Parameter(torch.ones(2, 2))
    v.grad = torch.ones(2, 2)
    opt = PixProLARS(
        [dict(params=[v], lars_exclude=True)],
        lr=1.0,
        momentum=0,
        weight_decay=0.1,
    )
    opt.step()
    assert torch.allclose(v.detach(), torch.zeros(2, 2))


class LoopLARS(PixProLARS):
    """The previous PixProLARS step: one parameter at a time (reference)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            wd, momentum = group['weight_decay'], group['momentum']
            for p in group['params']:
                if p.grad is None:
                    continue
                update = p.grad
                if p.ndim > 1 and not group.get('lars_exclude', False):
                    update = update.add(p, alpha=wd)
                    w_norm = torch.linalg.vector_norm(p)
                    u_norm = torch.linalg.vector_norm(update)
                    trust = torch.where(
                        (w_norm > 0) & (u_norm > 0),
                        group['eta'] * w_norm / u_norm,
                        torch.ones_like(w_norm),
                    )
                    update = update.mul(trust)
                if momentum != 0:
                    state = self.state[p]
                    if 'momentum_buffer' not in state:
                        buf = state['momentum_buffer'] = update.clone()
                    else:
                        buf = state['momentum_buffer']
                        buf.mul_(momentum).add_(update, alpha=1 - group['dampening'])
                    if group['nesterov']:
                        update = update.add(buf, alpha=momentum)
                    else:
                        update = buf
                p.add_(update, alpha=-group['lr'])


@pytest.mark.parametrize(
    'options',
    [
        dict(momentum=0.9),  # the configs'
        dict(momentum=0.9, nesterov=True),
        dict(momentum=0.9, dampening=0.1),
        dict(momentum=0.0),
    ],
)
def test_foreach_step_equals_the_loop_on_a_resnet(options):
    """Three steps on the parameters of a narrow ResNet-18 (channels_last
    weights, a zero weight, an excluded group, a parameter without gradient,
    lr changing each step; random gradients): every weight and momentum
    buffer within 1e-6 of the per-parameter loop."""
    torch.manual_seed(0)
    net = ResNet(depth=18, base_channels=16).to(memory_format=torch.channels_last)
    with torch.no_grad():
        net.layer3[0].conv2.weight.zero_()  # ||w|| = 0: trust ratio 1
    twin = copy.deepcopy(net)

    def groups(model):
        fc_like = list(model.layer4.parameters())
        rest = [p for n, p in model.named_parameters() if not n.startswith('layer4')]
        return [dict(params=rest), dict(params=fc_like, lars_exclude=True)]

    kw = dict(lr=4.0, weight_decay=1e-5, eta=0.001, **options)
    fused, loop = PixProLARS(groups(net), **kw), LoopLARS(groups(twin), **kw)
    for it in range(3):
        grads = [torch.randn_like(p) for p in net.parameters()]  # same layout
        grads[5] = None  # a parameter without gradient this step
        for model, opt in ((net, fused), (twin, loop)):
            for p, g in zip(model.parameters(), grads):
                p.grad = None if g is None else g.clone()
            opt.param_groups[0]['lr'] = 4.0 / (it + 1)
            opt.step()
        for (name, a), b in zip(net.named_parameters(), twin.parameters()):
            assert (a - b).abs().max() <= 1e-6, (it, name)
        for a, b in zip(net.parameters(), twin.parameters()):
            sa, sb = fused.state.get(a, {}), loop.state.get(b, {})
            assert sa.keys() == sb.keys()
            if 'momentum_buffer' in sa:
                diff = sa['momentum_buffer'] - sb['momentum_buffer']
                assert diff.abs().max() <= 1e-6
    assert (net.layer3[0].conv2.weight != 0).any()  # the zero weight moved
