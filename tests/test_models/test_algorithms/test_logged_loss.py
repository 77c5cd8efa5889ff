"""The logged ``loss`` is the back-propagated one: the sum of the terms; the
hooks reading it raise no tensor-to-scalar warning."""

import glob
import json
import os.path as osp
import warnings

import pytest
from conftest import REPO
from helpers import tiny_config
from mmengine.hooks import Hook
from mmengine.runner import Runner

INST_BYOL = osp.join(
    REPO, 'configs', 'selfsup', 'pixpro-inst-byol_r50_c5_8xb128-coslr-100e_in1k.py'
)


class KeepOutputs(Hook):
    """What ``train_step`` returned (mmengine's ``log_vars``)."""

    def __init__(self):
        self.outputs = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.outputs.append({k: float(v.detach()) for k, v in outputs.items()})


def test_with_an_instance_branch_loss_is_the_sum_of_the_terms(tmp_path):
    cfg = tiny_config(INST_BYOL, tmp_path, iters=2)
    runner = Runner.from_cfg(cfg)
    kept = KeepOutputs()
    runner.register_hook(kept)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        runner.train()
    # the hooks reading the loss (NonFiniteLossHook, FeatureSpreadHook) do not
    # convert a tensor that requires grad with float()
    assert not [w for w in caught if 'requires_grad=True to a scalar' in str(w.message)]

    (path,) = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    records = [r for r in map(json.loads, open(path)) if 'loss' in r]
    assert [r['iter'] for r in records] == [1, 2]
    for record, out in zip(records, kept.outputs):
        terms = record['loss_pixel'] + record['loss_instance']
        assert record['loss'] == pytest.approx(terms, abs=1e-6)
        # both terms count: the total is neither term alone
        assert abs(record['loss'] - record['loss_pixel']) > 1e-3
        assert abs(record['loss'] - record['loss_instance']) > 1e-3
        assert out['loss'] == pytest.approx(out['loss_pixel'] + out['loss_instance'])
