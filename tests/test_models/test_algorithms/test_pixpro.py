import math

import pytest
import torch
from helpers import DEMO_CONFIG_PATH, tiny_config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmpixpro.models import PixPro


class TauProbe(Hook):
    """Recovers the EMA factor actually applied at each iteration.

    The update inside ``loss`` is ``target <- tau * target + (1 - tau) *
    online`` with the online weights of that iteration (before the optimizer
    step), so over all backbone weights ``1 - tau`` is the least-squares
    solution of ``new - old = (1 - tau) * (online - old)``.
    """

    def __init__(self):
        self.taus, self.logged = [], []

    @staticmethod
    def flat(module):
        return torch.cat([p.detach().double().flatten() for p in module.parameters()])

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        self.online = self.flat(model.backbone)
        self.old = self.flat(model.target_net.module['backbone'])

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        new = self.flat(runner.model.target_net.module['backbone'])
        if runner.iter == 0:
            # First iteration: the target starts as a copy of the online net.
            assert torch.equal(new, self.online)
            self.taus.append(None)
        else:
            step, gap = new - self.old, self.online - self.old
            self.taus.append(1 - (step @ gap / (gap @ gap)).item())
        self.logged.append(
            runner.message_hub.get_scalar('train/momentum_tau').current()
        )


def test_tau_follows_the_cosine_schedule_every_iteration(tmp_path, photos):
    # four photos, batch 4: one iteration an epoch, across epoch boundaries
    cfg = tiny_config(DEMO_CONFIG_PATH, tmp_path, max_epochs=4, data_root=photos)
    # Large plain-SGD steps keep online and target far apart, so that the
    # float32 EMA step is well above rounding; the optimizer is irrelevant.
    cfg.optim_wrapper.optimizer = dict(type='SGD', lr=0.5)
    cfg.param_scheduler = None
    probe = TauProbe()
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(probe)
    runner.train()
    total = runner.max_iters
    assert total == 4 and len(probe.taus) == total
    for k in range(total):
        expected = 1 - (1 - 0.99) * (math.cos(math.pi * k / total) + 1) / 2
        assert probe.logged[k] == pytest.approx(expected, abs=1e-7)
        if k > 0:
            # 1 - tau is recovered to 1 % (float32 weights).
            assert 1 - probe.taus[k] == pytest.approx(1 - expected, rel=1e-2)
    assert int(runner.model.target_net.steps) == total


def test_target_has_no_gradient_and_bn_in_train_mode(tmp_path):
    cfg = tiny_config(DEMO_CONFIG_PATH, tmp_path)
    from mmpixpro.registry import MODELS

    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert isinstance(model, PixPro)
    target = model.target_net.module
    assert not any(p.requires_grad for p in model.target_net.parameters())
    bns = [m for m in target.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.training for m in bns)


def test_missing_coords_is_explained(tmp_path):
    cfg = tiny_config(DEMO_CONFIG_PATH, tmp_path)
    from mmpixpro.registry import MODELS

    model = MODELS.build(cfg.model)
    imgs = [torch.zeros(2, 3, 64, 64), torch.zeros(2, 3, 64, 64)]
    with pytest.raises(KeyError, match='coords'):
        model.loss(imgs, None)
