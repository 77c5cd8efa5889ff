"""The one-tower reading of Table 5 "+ head": one FCOS head tower of three
convs pre-trained (configs/selfsup/pixpro_r50_fcos-fpn-one-tower_*), loaded
into both towers of mmdet's FCOS at fine-tuning."""

import json
import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import pretrain
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import coco_split_folders, small_benchmark_config

SELFSUP = osp.join(REPO, 'configs', 'selfsup')
BENCH = osp.join(REPO, 'configs', 'benchmarks', 'mmdet')
ONE_TOWER_PRETRAIN = osp.join(
    SELFSUP, 'pixpro_r50_fcos-fpn-one-tower_8xb128-coslr-100e_in1k.py'
)
FCOS_ONE_TOWER = osp.join(
    BENCH, 'fcos_r50_fpn_gn-head-one-tower_1x_coco_mmdet-default.py'
)
FCOS = osp.join(BENCH, 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
TOWERS = ('cls_convs', 'reg_convs')


@pytest.fixture(scope='module')
def one_tower_ckpt(tmp_path_factory):
    return pretrain(ONE_TOWER_PRETRAIN, tmp_path_factory.mktemp('one_tower'))


def small(config, coco):
    root, val_ann = coco
    return small_benchmark_config(
        Config.fromfile(config),
        root,
        (128, 96),
        val_ann=val_ann,
        dataset_edit=coco_split_folders,
    )


def build_detector(cfg):
    from mmengine.registry import MODELS, init_default_scope

    import mmpixpro.benchmarks  # noqa: F401  (what custom_imports does)

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def checkpoint_state(path):
    return torch.load(path, weights_only=True)['state_dict']


def test_the_tower_is_each_tower_of_the_detector():
    """Layer for layer the detector's towers (names after the tower's
    prefix, shapes), and its forward is the stack of those layers."""
    from mmdet.models.dense_heads import FCOSHead

    from mmpixpro.models.necks.fcos_head_tower import FCOSHeadTower

    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/fcos_fpn_head.py'))
    tower = FCOSHeadTower(**cfg.fcos_towers)
    with DefaultScope.overwrite_default_scope('mmdet'):  # its losses
        head = FCOSHead(num_classes=80, **cfg.fcos_towers)
    shapes = {k: v.shape for k, v in tower.convs.state_dict().items()}
    for name in TOWERS:
        theirs = getattr(head, name).state_dict()
        assert shapes == {k: v.shape for k, v in theirs.items()}, name
    assert tower.out_channels == 256
    head.cls_convs.load_state_dict(tower.convs.state_dict())
    torch.manual_seed(0)
    levels = [torch.randn(2, 256, s, s) for s in (8, 4)]
    with torch.no_grad():
        outs = tower(levels)
        for x, out in zip(levels, outs):
            for conv in head.cls_convs:
                x = conv(x)
            assert out.shape == (2, 256, *x.shape[-2:])
            torch.testing.assert_close(out, x)
    with pytest.raises(ValueError, match='stacked_convs must be >= 1, got 0'):
        FCOSHeadTower(in_channels=256, stacked_convs=0)


def test_pretraining_checkpoint_holds_one_tower_of_three_convs(one_tower_ckpt):
    heads = {k for k in checkpoint_state(one_tower_ckpt) if k.startswith('bbox_head.')}
    assert heads
    assert {k.split('.')[1] for k in heads} == {'convs'}
    assert {int(k.split('.')[2]) for k in heads} == {0, 1, 2}


def test_one_tower_loads_into_both_towers_and_fine_tunes(
    one_tower_ckpt, coco, tmp_path
):
    cfg = small(FCOS_ONE_TOWER, coco)
    hook = find_hook_cfg(cfg)
    model = build_detector(cfg)
    report = transfer_weights(model, one_tower_ckpt, hook.rules, hook.fresh)
    state, own = checkpoint_state(one_tower_ckpt), model.state_dict()
    for prefix in ('backbone.', 'neck.'):
        keys = [k for k in own if k.startswith(prefix)]
        assert keys and all(torch.equal(own[k], state[k]) for k in keys), prefix
    loaded = set(report['modules']['bbox_head']['loaded'])
    for name in TOWERS:
        for i in range(4):  # convs 0-2 from the one tower, the 4th fresh
            keys = [k for k in own if k.startswith(f'bbox_head.{name}.{i}.')]
            assert keys
            for key in keys:
                source = key.replace(f'bbox_head.{name}.', 'bbox_head.convs.')
                if i < 3:
                    assert key in loaded and torch.equal(own[key], state[source])
                else:
                    assert key not in loaded and source not in state
    fresh = {k.split('.')[1] for k in report['modules']['bbox_head']['fresh']}
    assert fresh == {*TOWERS, 'conv_cls', 'conv_reg', 'conv_centerness', 'scales'}
    notes = ' '.join(report['notes'])
    assert 'bbox_head.cls_convs.3.conv' in notes and 'bbox_head.reg_convs.3.gn' in notes

    # The detector's own Runner: the hook loads, two iterations, evaluation.
    hook.checkpoint = one_tower_ckpt
    cfg.work_dir = str(tmp_path)
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    with open(osp.join(tmp_path, 'transfer_report.json')) as f:
        saved = json.load(f)
    assert set(saved['modules']['bbox_head']['loaded']) == loaded
    scalars = runner.message_hub.log_scalars  # the evaluation after training
    assert 'val/coco/bbox_mAP' in scalars, sorted(scalars)


def test_each_fcos_config_refuses_the_other_readings_checkpoint(
    one_tower_ckpt, fpn_head_setup, coco, tmp_path
):
    """A checkpoint of the other pre-training stops the run before anything
    is copied, naming what does not fit."""
    _, two_tower_ckpt = fpn_head_setup
    cfg = small(FCOS_ONE_TOWER, coco)
    hook = find_hook_cfg(cfg)
    with pytest.raises(TransferError, match=r"no 'bbox_head\.convs\.' tensors"):
        transfer_weights(build_detector(cfg), two_tower_ckpt, hook.rules, hook.fresh)
    # An FPN-only checkpoint (no tower) is refused the same way.
    fpn_only = str(tmp_path / 'fpn_only.pth')
    state = checkpoint_state(one_tower_ckpt)
    torch.save(
        {'state_dict': {k: v for k, v in state.items() if 'bbox_head' not in k}},
        fpn_only,
    )
    with pytest.raises(TransferError, match=r"no 'bbox_head\.convs\.' tensors"):
        transfer_weights(build_detector(cfg), fpn_only, hook.rules, hook.fresh)
    cfg = small(FCOS, coco)
    hook = find_hook_cfg(cfg)
    with pytest.raises(TransferError, match=r"is not this model's bbox_head\.\*"):
        transfer_weights(build_detector(cfg), one_tower_ckpt, hook.rules, hook.fresh)


def test_one_tower_config_is_the_fcos_recipe_with_other_loading_rules():
    one, two = Config.fromfile(FCOS_ONE_TOWER), Config.fromfile(FCOS)
    for key in ('model', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert one[key] == two[key], key
    hook, plain = one.custom_hooks
    assert plain.type == 'mmpixpro.PlainCheckpointHook'
    rules = [
        (r['model'], r['checkpoint'], r.get('required', False)) for r in hook.rules
    ]
    assert rules == [
        ('backbone.', 'backbone.', True),
        ('neck.', 'neck.', False),
        ('bbox_head.cls_convs.', 'bbox_head.convs.', True),
        ('bbox_head.reg_convs.', 'bbox_head.convs.', True),
    ]
