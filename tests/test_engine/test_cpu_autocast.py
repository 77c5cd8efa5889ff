"""--amp without a GPU: a real Runner trains under bf16 autocast."""

import argparse
import math

import pytest
import torch
from conftest import DEMO_CONFIG
from helpers import tiny_config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmpixpro.engine import CPUAutocastOptimWrapper
from mmpixpro.engine.run_args import add_run_args, merge_run_args


class RecordConvDtype(Hook):
    """Records the dtype of the backbone's first convolution output."""

    def __init__(self):
        self.dtypes, self.losses = [], []

    def before_train(self, runner):
        runner.model.backbone.conv1.register_forward_hook(
            lambda module, args, out: self.dtypes.append(out.dtype)
        )

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU path of --amp')
def test_amp_on_cpu_trains_in_bf16(tmp_path):
    cfg = tiny_config(DEMO_CONFIG, tmp_path)
    parser = add_run_args(argparse.ArgumentParser())
    parser.add_argument('config')
    merge_run_args(cfg, parser.parse_args([DEMO_CONFIG, '--amp']))
    assert cfg.optim_wrapper.type == 'CPUAutocastOptimWrapper'
    runner = Runner.from_cfg(cfg)
    record = RecordConvDtype()
    runner.register_hook(record)
    runner.train()
    assert isinstance(runner.optim_wrapper, CPUAutocastOptimWrapper)
    # both views, every iteration: the online backbone ran in bf16
    assert record.dtypes and set(record.dtypes) == {torch.bfloat16}
    assert len(record.losses) == 3 and all(map(math.isfinite, record.losses))
    assert runner.model.backbone.conv1.weight.dtype == torch.float32


def test_float16_is_refused_on_cpu():
    with pytest.raises(ValueError, match='bfloat16 only'):
        CPUAutocastOptimWrapper(dtype='float16', optimizer=None)
