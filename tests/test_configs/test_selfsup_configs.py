"""Every pre-training config builds and trains through the Runner (tiny)."""

import glob
import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import tiny_config
from mmengine.config import Config
from mmengine.runner import Runner

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'selfsup', '*.py')))


def test_there_are_configs():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py' in names
    assert 'pixpro_r50_c5_8xb128-coslr-400e_in1k.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_trains_one_iteration(path, tmp_path):
    cfg = tiny_config(path, tmp_path, batch_size=2)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert torch.isfinite(torch.tensor(loss)) and -4.0 <= loss <= 4.0


@pytest.mark.parametrize('epochs', [100, 400])
def test_paper_schedule(epochs):
    cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs',
            'selfsup',
            f'pixpro_r50_c5_8xb128-coslr-{epochs}e_in1k.py',
        )
    )
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
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == (
        'LinearLR',
        0.01,
        5,
    )
    assert (
        cosine.type,
        cosine.begin,
        cosine.end,
        cosine.T_max,
        cosine.eta_min,
    ) == ('CosineAnnealingLR', 5, epochs, epochs - 5, 1e-6)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.model.backbone.zero_init_residual
    assert cfg.model.head.pos_threshold == 0.7
    assert cfg.model.head.ppm.gamma == 2.0
    assert cfg.model.head.ppm.num_layers == 1
