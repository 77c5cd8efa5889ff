import torch

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
