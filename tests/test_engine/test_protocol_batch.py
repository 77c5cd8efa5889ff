"""A run whose total batch is not its config's protocol says so at start."""

import glob
import os.path as osp

import pytest
from conftest import DEMO_CONFIG
from helpers import tiny_config
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmpixpro.engine.hooks.protocol_batch_hook import protocol_batch_message


def test_the_protocol_batch_is_not_mentioned():
    assert protocol_batch_message(8, 128, 1024) is None
    assert protocol_batch_message(8, 2, 16) is None
    assert protocol_batch_message(4, 128, 1024, accumulative_counts=2) is None


def test_four_gpus_of_the_pre_training_protocol():
    assert protocol_batch_message(4, 128, 1024) == (
        'total batch 512 (4 processes x 128) is not the protocol batch 1024 '
        '(auto_scale_lr.base_batch_size), and the lr is still the one set for '
        '1024: add --auto-scale-lr to scale it to 512 or run on 8 GPUs'
    )
    assert protocol_batch_message(1, 2, 16, auto_scale_lr=True) == (
        'total batch 2 (1 process x 2) is not the protocol batch 16 '
        '(auto_scale_lr.base_batch_size): the lr was scaled by 0.125 '
        '(auto_scale_lr.enable); results are not comparable with the protocol'
    )
    assert 'x 3 accumulated' in protocol_batch_message(2, 128, 1024, 3)


@pytest.mark.parametrize('batch, warned', [(1024, True), (4, False)])
def test_the_run_warns_once_at_start(tmp_path, batch, warned):
    cfg = tiny_config(DEMO_CONFIG, tmp_path, iters=1, batch_size=4)
    cfg.auto_scale_lr = dict(base_batch_size=batch)
    runner = Runner.from_cfg(cfg)
    runner.train()
    (log,) = glob.glob(osp.join(runner.work_dir, '*', '*.log'))
    text = open(log).read()
    line = f'total batch 4 (1 process x 4) is not the protocol batch {batch}'
    assert text.count(line) == (1 if warned else 0)


def test_benchmark_configs_reach_it_from_another_scope():
    """The detectors' configs (mmdet scope) name it with mmpixpro's scope."""
    import mmdet.registry  # noqa: F401  (mmdet's registries)

    with DefaultScope.overwrite_default_scope('mmdet'):
        hook = MMENGINE_HOOKS.build(dict(type='mmpixpro.ProtocolBatchHook'))
    assert type(hook).__name__ == 'ProtocolBatchHook'
