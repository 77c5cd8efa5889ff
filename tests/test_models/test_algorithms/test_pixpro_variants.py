"""Multi-level outputs, FPN + FCOS-head pre-training, the instance branch."""

import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import checkpoint_path, tiny_config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

from mmpixpro.registry import MODELS

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
FPN_HEAD = osp.join(SELFSUP, 'pixpro_r50_fpn_head.py')
INST_FPN_HEAD = osp.join(
    SELFSUP, 'pixpro-simclr-star_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py'
)
P4 = osp.join(SELFSUP, 'pixpro_r50_p4_8xb128-coslr-100e_in1k.py')
FCOS_P4 = osp.join(SELFSUP, 'pixpro_r50_fcos-fpn_8xb128-coslr-100e_in1k.py')
BYOL_C5 = osp.join(SELFSUP, 'pixpro-inst-byol_r50_c5_8xb128-coslr-100e_in1k.py')
PREDICTION_LAYERS = ('conv_cls', 'conv_reg', 'conv_centerness', 'scales')


def build(cfg_model):
    model = MODELS.build(cfg_model)
    model.init_weights()
    return model


def views(n=2, size=64):
    torch.manual_seed(0)
    imgs = [torch.randn(n, 3, size, size), torch.randn(n, 3, size, size)]
    from mmpretrain.structures import DataSample

    samples = []
    for _ in range(n):
        ds = DataSample()
        ds.set_field(torch.tensor([[0.0, 0, 0.8, 0.8], [0.9, 0.2, 0.1, 1.0]]), 'coords')
        samples.append(ds)
    return imgs, samples


class InitialWeights(Hook):
    """Keeps the model's weights as they are before the first iteration."""

    def before_train(self, runner) -> None:
        self.state = {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def fpn_head_run(tmp_path_factory):
    """A real (tiny) pre-training run of the FPN + head config; its config,
    checkpoint and the weights it started from."""
    work_dir = tmp_path_factory.mktemp('fpn_head')
    cfg = tiny_config(FPN_HEAD, work_dir, batch_size=4)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=2, by_epoch=False
    )
    runner = Runner.from_cfg(cfg)
    initial = InitialWeights()
    runner.register_hook(initial)
    runner.train()
    return cfg, checkpoint_path(str(work_dir)), initial.state


def build_fcos_detector(cfg):
    """mmdet's own FCOS, with the FPN and towers of our shared settings."""
    from mmdet.registry import MODELS as DET_MODELS

    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_MODELS.build(
            dict(
                type='FCOS',
                backbone=dict(type='ResNet', depth=18, norm_eval=False),
                neck=cfg.fcos_neck,
                bbox_head=dict(type='FCOSHead', num_classes=80, **cfg.fcos_towers),
                test_cfg=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5)),
            )
        )


def test_checkpoint_loads_into_mmdet_fcos_without_conversion(fpn_head_run):
    cfg, ckpt_path, _ = fpn_head_run
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    detector = build_fcos_detector(cfg)
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    load_checkpoint(detector, ckpt_path, map_location='cpu', strict=False)
    after = detector.state_dict()

    loaded = [k for k in after if k in state]
    fresh = sorted(k for k in after if k not in state)
    # The towers are pre-trained up to their third conv (Sec. 3.3).
    for tower in ('cls_convs', 'reg_convs'):
        for i in range(3):
            assert f'bbox_head.{tower}.{i}.conv.weight' in loaded
            assert f'bbox_head.{tower}.{i}.gn.weight' in loaded
    assert any(k.startswith('neck.fpn_convs.4.') for k in loaded)  # P7 conv
    for key in loaded:
        assert after[key].shape == state[key].shape, key
        assert torch.equal(after[key], state[key]), key
    # Only the fourth tower conv and the prediction layers start fresh.
    fourth = [
        k
        for k in fresh
        if k.split('.')[1:3] in (['cls_convs', '3'], ['reg_convs', '3'])
    ]
    assert sorted(fourth) == sorted(
        f'bbox_head.{t}.3.{p}'
        for t in ('cls_convs', 'reg_convs')
        for p in ('conv.weight', 'gn.weight', 'gn.bias')
    )
    predictions = [k for k in fresh if k not in fourth]
    assert {k.split('.')[1] for k in predictions} == set(PREDICTION_LAYERS)
    for key in fresh:
        assert torch.equal(after[key], before[key])
    prefixes = {k.split('.')[0] for k in loaded}
    assert prefixes == {'backbone', 'neck', 'bbox_head'}


def test_pretrained_towers_changed_during_training(fpn_head_run):
    _, ckpt_path, initial = fpn_head_run
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    for tower in ('cls_convs', 'reg_convs'):
        for i in range(3):
            key = f'bbox_head.{tower}.{i}.conv.weight'
            assert state[key].shape == initial[key].shape
            # trained by the pixel loss: moved away from the run's own init
            assert not torch.allclose(state[key], initial[key]), key


def test_instance_and_pixel_branches_share_one_backbone_pass_per_view(tmp_path):
    cfg = tiny_config(INST_FPN_HEAD, tmp_path)
    model = build(cfg.model)
    calls = {'online': 0, 'target': 0}
    model.backbone.register_forward_hook(
        lambda *a: calls.__setitem__('online', calls['online'] + 1)
    )
    model.target_net.module['backbone'].register_forward_hook(
        lambda *a: calls.__setitem__('target', calls['target'] + 1)
    )
    imgs, samples = views()
    losses = model.loss(imgs, samples)
    assert set(losses) >= {'loss_pixel', 'loss_instance'}
    assert calls == {'online': 2, 'target': 2}
    (losses['loss_pixel'] + losses['loss_instance']).backward()
    assert model.instance_head.projector.projector[0].conv.weight.grad is not None
    assert model.bbox_head.reg_convs[0].conv.weight.grad is not None


def test_single_level_selection(tmp_path):
    cfg = tiny_config(P4, tmp_path)
    model = build(cfg.model)
    # the Mask R-CNN FPN: P2..P6, P6 max-pooled from P5
    assert model.level_names == ['P2', 'P3', 'P4', 'P5', 'P6']
    assert model.out_indices == [2]
    imgs, samples = views(size=64)
    _, dense = model.encode(model.online_net(), imgs[0])
    assert [d.shape[-1] for d in dense] == [64 // 16]


@pytest.mark.parametrize(
    'edit, error, key',
    [
        (lambda m: m.update(out_levels=('P8',)), ValueError, 'out_levels'),
        (lambda m: m.update(out_levels='P3'), ValueError, 'out_levels'),
        (
            lambda m: m.neck.update(in_channels=[64, 128, 256, 1024]),
            ValueError,
            'neck.in_channels',
        ),
        (lambda m: m.projector.update(in_channels=256), ValueError, 'projector'),
        (lambda m: m.head.update(pos_threshold=0.0), ValueError, 'pos_threshold'),
        (lambda m: m.head.ppm.update(gamma=-1.0), ValueError, 'gamma'),
        (lambda m: m.head.ppm.update(num_layers=-1), ValueError, 'num_layers'),
    ],
)
def test_bad_settings_fail_at_build_naming_the_key(tmp_path, edit, error, key):
    cfg = tiny_config(FPN_HEAD, tmp_path)
    edit(cfg.model)
    with pytest.raises(error, match=key):
        MODELS.build(cfg.model)


@pytest.mark.parametrize(
    'edit, key',
    [
        (lambda h: h.update(loss_weight=-1.0), 'alpha'),
        (lambda h: h.loss.update(temperature=0.0), 'temperature'),
        (lambda h: h.projector.update(in_channels=256), 'instance_head.projector'),
    ],
)
def test_bad_instance_settings(tmp_path, edit, key):
    cfg = tiny_config(INST_FPN_HEAD, tmp_path)
    edit(cfg.model.instance_head)
    with pytest.raises(ValueError, match=key):
        MODELS.build(cfg.model)


def test_channels_last_gives_the_same_loss_and_gradients(tmp_path):
    """In float64, so that the comparison is not blurred by fp32 rounding
    (amplified by cancellation in these gradients)."""
    cfg = tiny_config(FPN_HEAD, tmp_path)
    torch.manual_seed(0)
    cfg.model.channels_last = False
    plain = build(cfg.model).double()
    assert plain.backbone.conv1.weight.is_contiguous()
    cfg.model.channels_last = True
    fast = build(cfg.model).double()
    fast.load_state_dict(plain.state_dict())
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    imgs, samples = views()
    imgs = [img.double() for img in imgs]
    results = []
    for model in (plain, fast):
        losses = model.loss(imgs, samples)
        losses['loss_pixel'].backward()
        results.append(
            (losses['loss_pixel'].detach(), model.backbone.conv1.weight.grad.clone())
        )
    assert torch.allclose(results[0][0], results[1][0], atol=1e-10)
    assert torch.allclose(results[0][1], results[1][1], atol=1e-10, rtol=1e-8)
