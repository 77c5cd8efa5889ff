"""PixPro on mmdet's Swin Transformer and mmpretrain's ConvNeXt (small
versions of the configs' backbones): the pair rule at the backbone's
strides, the target without drop path, an exact resume, strict load_from."""

import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import tiny_config
from mmengine.hooks import Hook
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from mmpixpro.engine.fault_tolerant_runner import FaultTolerantRunner
from mmpixpro.models.utils.pixel_pairs import pixel_pair_mask
from mmpixpro.registry import MODELS

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
S = '8xb64-amp-coslr-100e_in1k.py'
SWIN_C5 = osp.join(SELFSUP, f'pixpro_swin-t_c5_{S}')
SWIN_FPN = osp.join(SELFSUP, f'pixpro_swin-t_p3-p6_{S}')
CONVNEXT_C5 = osp.join(SELFSUP, f'pixpro_convnext-t_c5_{S}')
CONVNEXT_FPN = osp.join(SELFSUP, f'pixpro_convnext-t_p3-p6_{S}')
READINGS = [SWIN_C5, SWIN_FPN, CONVNEXT_C5, CONVNEXT_FPN]


def build(path, tmp_path):
    cfg = tiny_config(path, tmp_path)
    with DefaultScope.overwrite_default_scope('mmpixpro'):
        model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    return model


def samples(coords):
    out = []
    for boxes in coords:
        sample = DataSample()
        sample.set_field(boxes, 'coords')
        out.append(sample)
    return out


def pairs_at(path, tmp_path, last: tuple, shapes: list) -> None:
    """96 x 128 views give the last backbone output ``last`` and the levels
    with the loss ``shapes``; the head's positive pairs are the pair rule's
    on exactly these maps."""
    model = build(path, tmp_path).train()
    torch.manual_seed(0)
    views = [torch.randn(2, 3, 96, 128) for _ in range(2)]
    coords = torch.tensor(
        [[[0.0, 0.0, 0.8, 0.7], [0.1, 0.2, 0.9, 1.0]],
         [[0.9, 0.1, 0.2, 0.9], [0.3, 0.0, 1.0, 0.6]]]
    )  # fmt: skip
    c5, dense = model.encode(model.online_net(), views[0])
    assert tuple(c5.shape[-2:]) == last
    assert [tuple(x.shape[-2:]) for x in dense] == shapes
    assert all(x.size(1) == 256 for x in dense)  # the projector's output
    losses = model.loss(views, samples(coords))
    expected = torch.stack(
        [
            pixel_pair_mask(coords[:, 0], coords[:, 1], s, s, 0.7).sum((1, 2)).float()
            for s in shapes
        ]
    ).mean()
    assert losses['num_pos_pairs'] == pytest.approx(expected.item())
    assert expected > 0
    assert torch.isfinite(losses['loss_pixel'])


# P3-P6 of 96 x 128 views: strides 8-64
PYRAMID_SHAPES = [(12, 16), (6, 8), (3, 4), (2, 2)]


@pytest.mark.parametrize('path', READINGS, ids=osp.basename)
def test_the_pair_rule_runs_at_the_backbones_strides(path, tmp_path):
    """C5 3 x 4 (stride 32) and P3-P6 12 x 16 ... 2 x 2."""
    shapes = PYRAMID_SHAPES if 'p3-p6' in path else [(3, 4)]
    pairs_at(path, tmp_path, (3, 4), shapes)


def target_has_no_drop_path(path, tmp_path, online_rate: float) -> None:
    """The target pass is the same twice, the online pass (drop path up to
    ``online_rate``) is not."""
    model = build(path, tmp_path).train()
    torch.manual_seed(0)
    img = torch.randn(8, 3, 64, 64)
    online, target = model.online_net(), model.target_net.module
    with torch.no_grad():
        t1, t2 = model.encode(target, img)[1][0], model.encode(target, img)[1][0]
        o1, o2 = model.encode(online, img)[1][0], model.encode(online, img)[1][0]
    assert torch.equal(t1, t2)
    assert not torch.equal(o1, o2)
    rates = [m.drop_prob for m in model.backbone.modules() if hasattr(m, 'drop_prob')]
    assert max(rates) == pytest.approx(online_rate)


def test_the_target_has_no_drop_path(tmp_path):
    """MoBY's target encodes without stochastic depth (Swin-T: 0.2 online)."""
    target_has_no_drop_path(SWIN_C5, tmp_path, 0.2)


def small_run(path, work_dir, photos, epochs, **extra):
    """The config made tiny: 4 photos, batch 2 (2 iterations an epoch), a
    checkpoint every epoch, a dataloader worker (seeded by the epoch)."""
    cfg = tiny_config(path, work_dir, data_root=photos, max_epochs=epochs)
    cfg.train_dataloader.update(batch_size=2, num_workers=1)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.experiment_name = osp.basename(str(work_dir))  # its own message hub
    cfg.merge_from_dict(extra)
    return cfg


class Interrupted(Exception):
    pass


class StopAfterEpoch(Hook):
    """Stop the run once epoch ``epoch`` is checkpointed."""

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:  # mmengine counts it after the hooks
            raise Interrupted


def learned(path):
    state = torch.load(path, weights_only=True)['state_dict']
    return {k: v for k, v in state.items() if 'num_batches_tracked' not in k}


def resume_is_exact(config, tmp_path, photos) -> None:
    """Two epochs straight against a run stopped after epoch 1 and resumed:
    the same weights, target, optimiser state and tau, drop path included
    (IterSeedHook; lr 1e-3 from the start, so that other drop-path masks
    would show)."""
    constant = dict(param_scheduler=[])
    straight = small_run(config, tmp_path / 'straight', photos, 2, **constant)
    Runner.from_cfg(straight).train()
    stopped = small_run(config, tmp_path / 'stopped', photos, 2, **constant)
    stopped = Runner.from_cfg(stopped)
    stopped.register_hook(StopAfterEpoch(1), 'LOWEST')
    with pytest.raises(Interrupted):
        stopped.train()
    assert stopped.iter == 2 and not (tmp_path / 'stopped' / 'epoch_2.pth').exists()
    resumed = small_run(
        config, tmp_path / 'resumed', photos, 2, resume=True, **constant
    )
    resumed.work_dir = str(tmp_path / 'stopped')
    runner = Runner.from_cfg(resumed)
    runner.train()
    assert runner.iter == 4
    a = learned(tmp_path / 'straight' / 'epoch_2.pth')
    b = learned(tmp_path / 'stopped' / 'epoch_2.pth')
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=1e-5, atol=1e-6), key
    once = learned(tmp_path / 'stopped' / 'epoch_1.pth')
    changed = [
        k for k in a if k.startswith('backbone.') and not torch.equal(a[k], once[k])
    ]
    assert changed, 'the second epoch changed nothing: the check proves nothing'


def test_a_resumed_swin_run_is_the_uninterrupted_one(photos, tmp_path):
    resume_is_exact(SWIN_C5, tmp_path, photos)


def load_from_is_strict(config, other, tmp_path, photos, parts=('backbone.',)):
    """load_from of a checkpoint of ``config`` into its own config loads
    every tensor of ``parts`` (the run starts from it); into the config
    ``other`` it stops, listing what does not fit."""
    first = small_run(config, tmp_path / 'first', photos, 1)
    Runner.from_cfg(first).train()
    ckpt = str(tmp_path / 'first' / 'epoch_1.pth')
    saved = learned(ckpt)

    again = small_run(config, tmp_path / 'again', photos, 1, load_from=ckpt)
    again.optim_wrapper.optimizer.lr = 0.0
    runner = FaultTolerantRunner.from_cfg(again)
    runner.train()
    own = runner.model.state_dict()
    for key, value in saved.items():
        if key.startswith(parts):
            assert torch.equal(own[key], value), key

    other = small_run(other, tmp_path / 'other', photos, 1, load_from=ckpt)
    runner = FaultTolerantRunner.from_cfg(other)
    with pytest.raises(RuntimeError, match='does not fit the model of this config'):
        runner.train()
    assert runner.iter == 0


def test_load_from_is_strict_about_the_backbone(photos, tmp_path):
    """A Swin checkpoint into its own config and into the ConvNeXt one."""
    load_from_is_strict(SWIN_C5, CONVNEXT_C5, tmp_path, photos)
