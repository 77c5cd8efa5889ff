"""Every pre-training config builds and trains through the Runner (tiny)."""

import glob
import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import pretrain, tiny_config
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'selfsup', '*.py')))


def test_there_are_configs():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py' in names
    assert 'pixpro_r50_c5_8xb128-coslr-400e_in1k.py' in names


def continues_a_stage(cfg) -> bool:
    hooks = cfg.get('custom_hooks', None) or []
    return any(h.get('type') == 'MomentumRestartHook' for h in hooks)


@pytest.fixture(scope='module')
def imagenet_stage_ckpt(tmp_path_factory):
    """A (tiny) ImageNet-stage FPN + head checkpoint of ours."""
    config = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
    return pretrain(config, tmp_path_factory.mktemp('stage1'), iters=2)


# Sizes of a Swin / ConvNeXt config (Swin-T, -S, -B; ConvNeXt-T, -S): one
# configuration per family and reading trains, the others build.
SIZES = ('embed_dims', 'depths', 'num_heads', 'arch', 'drop_path_rate', 'in_channels')


def without_sizes(node):
    if isinstance(node, dict):
        return {k: without_sizes(v) for k, v in node.items() if k not in SIZES}
    return node


def structure(path: str) -> tuple:
    """What a config builds, without the values that only change numbers
    (T, gamma, temperature, schedule length; a Swin's or ConvNeXt's sizes)."""
    cfg = Config.fromfile(path)
    model = cfg.model.to_dict()
    head = model.get('head') or {}
    head.pop('pos_threshold', None)
    (head.get('ppm') or {}).pop('gamma', None)
    head.get('loss', {}).pop('temperature', None)
    if 'depth' not in model['backbone']:
        model = without_sizes(model)
    return repr(model), repr(cfg.train_dataloader.dataset.get('type'))


def representatives() -> list:
    """One config per structure: these train through the Runner."""
    seen, chosen = set(), []
    for path in CONFIGS:
        key = structure(path)
        if key not in seen:
            seen.add(key)
            chosen.append(path)
    return chosen


TRAINED = representatives()


@pytest.mark.parametrize('path', TRAINED, ids=osp.basename)
def test_config_trains_one_iteration(path, tmp_path, request):
    cfg = tiny_config(path, tmp_path, batch_size=2)
    if continues_a_stage(cfg):
        cfg.load_from = request.getfixturevalue('imagenet_stage_ckpt')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert torch.isfinite(torch.tensor(loss)) and -4.0 <= loss <= 4.0


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if p not in TRAINED], ids=osp.basename
)
def test_config_builds_and_computes_a_finite_loss(path, tmp_path):
    """Configs that differ from a trained one only in T, gamma, temperature or
    schedule length: the model builds and its loss is finite."""
    from mmengine.model import revert_sync_batchnorm
    from mmpretrain.structures import DataSample

    from mmpixpro.registry import MODELS

    cfg = tiny_config(path, tmp_path)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    torch.manual_seed(0)
    views = [torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)]
    samples = []
    for _ in range(2):
        sample = DataSample()
        sample.set_field(
            torch.tensor([[0.0, 0, 0.8, 0.8], [0.9, 0.2, 0.1, 1.0]]), 'coords'
        )
        samples.append(sample)
    losses = model.loss(views, samples)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)


@pytest.mark.parametrize('epochs', [100, 400])
def test_paper_schedule(epochs, tmp_path):
    path = osp.join(
        REPO, 'configs', 'selfsup', f'pixpro_r50_c5_8xb128-coslr-{epochs}e_in1k.py'
    )
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size == 128
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay, opt.momentum, opt.eta) == (
        'PixProLARS',
        4.0,
        1e-5,
        0.9,
        0.001,
    )
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.model.backbone.zero_init_residual
    assert cfg.model.head.pos_threshold == 0.7
    assert cfg.model.head.ppm.gamma == 2.0
    assert cfg.model.head.ppm.num_layers == 1
    # The schedules as the Runner builds them (3 iterations per epoch here):
    # warm-up over 5 epochs from lr / 100, cosine to 1e-6 at the last epoch.
    tiny = tiny_config(path, tmp_path, max_epochs=epochs)
    runner = Runner.from_cfg(tiny)
    runner.train_loop  # the property builds the loop the schedulers count
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    warmup, cosine = runner.build_param_scheduler(runner.param_schedulers)
    per_epoch = len(runner.train_dataloader)
    assert (warmup.begin, warmup.end, warmup.start_factor) == (0, 5 * per_epoch, 0.01)
    assert (cosine.begin, cosine.end) == (5 * per_epoch, epochs * per_epoch)
    assert (cosine.T_max, cosine.eta_min) == ((epochs - 5) * per_epoch, 1e-6)


COCO_STAGE = osp.join(
    REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head_8xb128-coslr-120e_coco.py'
)


class FirstIterProbe(Hook):
    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 0:
            model = runner.model
            self.backbone = model.backbone.conv1.weight.detach().clone()
            self.tower = model.bbox_head.cls_convs[0].conv.weight.detach().clone()
            self.target = (
                model.target_net.module['backbone'].conv1.weight.detach().clone()
            )
            self.steps = int(model.target_net.steps)


def test_coco_stage_continues_from_an_imagenet_checkpoint(
    imagenet_stage_ckpt, tmp_path
):
    state = torch.load(imagenet_stage_ckpt, weights_only=True)['state_dict']
    assert int(state['target_net.steps']) == 2
    cfg = tiny_config(COCO_STAGE, tmp_path)  # train2017 -> the photos
    assert cfg.train_dataloader.dataset.type == 'ImageFolder'
    cfg.load_from = imagenet_stage_ckpt
    cfg.train_cfg.max_epochs = 1
    probe = FirstIterProbe()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(probe)
    runner.train()
    assert torch.equal(probe.backbone, state['backbone.conv1.weight'])
    assert torch.equal(probe.tower, state['bbox_head.cls_convs.0.conv.weight'])
    # The loaded target is kept, and tau's schedule restarts (steps -> 1).
    assert torch.equal(probe.target, state['target_net.module.backbone.conv1.weight'])
    assert probe.steps == 1
    assert len(runner.train_dataloader.dataset) == 12  # the 12 photos
    assert runner.iter == 3


def test_coco_stage_refuses_to_start_without_a_checkpoint(tmp_path):
    cfg = tiny_config(COCO_STAGE, tmp_path)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='load_from'):
        runner.train()
    assert runner.iter == 0
