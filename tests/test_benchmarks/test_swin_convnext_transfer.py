"""Swin Transformer and ConvNeXt checkpoints in mmdet's and mmseg's own
configs for these backbones (small versions): every backbone tensor, and the
FPN's after FPN pre-training, loads unconverted; mmdet's train.py fine-tunes
from load_from; the ImageNet-supervised releases load through the same hook
as mmdet's own loading would; a wrong pairing stops with one line."""

import importlib
import json
import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import build_downstream, small_pretraining_checkpoints
from mmengine.config import Config
from mmengine.runner import Runner
from test_downstream_train import learned, mmdet_train, tensors

from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.layouts import OUTPUT_NORMS
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import (
    coco_split_folders,
    releases,
    small_benchmark_config,
    toy_data,
)

BENCH = osp.join(REPO, 'configs', 'benchmarks')
SELFSUP = osp.join(REPO, 'configs', 'selfsup')
S = '8xb64-amp-coslr-100e_in1k.py'
SWIN_T_1X = 'mmdet/mask-rcnn_swin-t-p4-w7_fpn_1x_coco_mmdet-default.py'
SWIN_S_3X = 'mmdet/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco_mmdet-default.py'
CONVNEXT_T_3X = (
    'mmdet/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco_mmdet-default.py'
)
CONVNEXT_T_SEG = (
    'mmseg/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512_mmseg-default.py'
)
FCOS = 'mmdet/fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'
UPERNET = 'patch4-window7_upernet_8xb2-160k_ade20k-512x512_mmseg-default.py'
# benchmark config -> the pre-training config whose small checkpoint it takes
PAIRS = {
    SWIN_T_1X: 'pixpro_swin-t_p3-p6',
    'mmdet/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco_mmdet-default.py': (
        'pixpro_swin-t_p3-p6'
    ),
    SWIN_S_3X: 'pixpro_swin-s_p3-p6',
    CONVNEXT_T_3X: 'pixpro_convnext-t_c5',  # C5: the FPN starts fresh
    'mmdet/cascade-mask-rcnn_convnext-s-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_'
    'coco_mmdet-default.py': 'pixpro_convnext-s_p3-p6',
    f'mmseg/swin-tiny-{UPERNET}': 'pixpro_swin-t_p3-p6',
    f'mmseg/swin-small-{UPERNET}': 'pixpro_swin-s_c5',
    f'mmseg/swin-base-{UPERNET}': 'pixpro_swin-b_c5',
    CONVNEXT_T_SEG: 'pixpro_convnext-t_c5',
    'mmseg/convnext-small_upernet_8xb2-amp-160k_ade20k-512x512_mmseg-default.py': (
        'pixpro_convnext-s_c5'
    ),
}
TRAINED = ('pixpro_swin-t_p3-p6', 'pixpro_convnext-t_c5')  # real Runner runs


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A small checkpoint per pre-training config: Runner checkpoints (one
    iteration on the photos) for Swin-T FPN and ConvNeXt-T C5, the built
    models' tensors for the others."""
    names = sorted(set(PAIRS.values()))
    found = small_pretraining_checkpoints(
        tmp_path_factory,
        [f'{n}_{S}' for n in names],
        trained=[f'{n}_{S}' for n in TRAINED],
    )
    return {n: found[f'{n}_{S}'] for n in names}


def small(config, data_root='/data', **kwargs):
    """The benchmark config made small (its backbone as the small
    pre-training configs build it)."""
    cfg = Config.fromfile(osp.join(BENCH, config))
    return small_benchmark_config(cfg, data_root, (128, 96), **kwargs)


# What a benchmark config adds to or changes in mmdet's / mmseg's own config.
ADDED = {
    'custom_imports',
    'custom_hooks',
    'backbone_rule',
    'neck_rule',
    'plain_checkpoint_hook',
}


def without_scope(node):
    """``node`` without the ``_scope_`` keys that ``mmdet::`` inheritance
    writes into every inherited dict."""
    if isinstance(node, dict):
        return {k: without_scope(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(without_scope(v) for v in node)
    return node


@pytest.mark.parametrize('config', sorted(PAIRS), ids=osp.basename)
def test_only_the_hook_is_added_and_nothing_downloaded(config):
    """The merged config is mmdet's / mmseg's own but for the transfer and
    plain-checkpoint hooks (and their imports: the hook's and the checkpoint
    reader's), the backbone's ``init_cfg`` and the unused download URL; no
    URL is left anywhere."""
    ours = Config.fromfile(osp.join(BENCH, config))
    (base,) = [b for b in open(osp.join(BENCH, config)).read().split("'") if '::' in b]
    package, path = base.split('::')
    root = osp.dirname(importlib.import_module(package).__file__)
    theirs = Config.fromfile(osp.join(root, '.mim', 'configs', path)).to_dict()
    mine = without_scope(ours.to_dict())
    assert ours.custom_imports.imports[-2:] == [
        'mmpixpro.benchmarks',
        'mmpixpro.engine.safe_checkpoint_loading',
    ]
    hooks = [h['type'] for h in mine['custom_hooks']]
    assert hooks == ['mmpixpro.PretrainedTransferHook', 'mmpixpro.PlainCheckpointHook']
    assert mine['model']['backbone'].pop('init_cfg') is None
    assert theirs['model']['backbone'].pop('init_cfg')['type'] == 'Pretrained'
    url = 'pretrained' if 'pretrained' in theirs else 'checkpoint_file'
    assert '://' in theirs.pop(url) and mine.pop(url) is None
    for key in ADDED:
        mine.pop(key, None), theirs.pop(key, None)
    assert mine == theirs
    assert '://' not in repr(mine)


@pytest.mark.parametrize('config', sorted(PAIRS), ids=osp.basename)
def test_the_checkpoint_loads_unconverted(config, checkpoints):
    """Every backbone tensor (and every FPN tensor after FPN pre-training)
    of the model mmdet / mmseg build equals the checkpoint's after loading;
    the report lists every tensor of the model."""
    cfg = small(config)
    model = build_downstream(cfg)
    ckpt = checkpoints[PAIRS[config]]
    hook = find_hook_cfg(cfg)
    report = transfer_weights(model, ckpt, hook.rules, hook.get('fresh', ()))
    state = tensors(ckpt)
    own = model.state_dict()
    parts = ['backbone.']
    if 'neck.fpn_convs.0.conv.weight' in state and 'neck' in report['modules']:
        parts.append('neck.')
    for prefix in parts:
        keys = [k for k in own if k.startswith(prefix)]
        assert keys
        for key in keys:
            assert torch.equal(own[key], state[key]), key
        assert not report['modules'][prefix[:-1]]['fresh']
    listed = [k for e in report['modules'].values() for k in e['loaded'] + e['fresh']]
    assert sorted(listed) == sorted(own)
    assert report['layout'] == 'mmpixpro pre-training checkpoint'
    if 'neck' in report['modules'] and len(parts) == 1:
        assert 'neck.* starts fresh: the checkpoint has no neck.*' in report['notes']


def mmdet_train_fine_tunes(config, ckpt, coco, tmp_path) -> None:
    """mmdet's own train.py, the small ``config`` and a pyramid / FPN
    pre-training checkpoint as load_from: backbone and neck loaded by the
    hook, two iterations trained."""
    root, val_ann = coco
    cfg = small(config, root, val_ann=val_ann, dataset_edit=coco_split_folders)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # train only
    path = str(tmp_path / 'small.py')
    cfg.dump(path)
    work_dir = tmp_path / 'run'
    log = mmdet_train(path, work_dir, f'load_from={ckpt}')
    assert f'Pre-trained checkpoint (from load_from): {ckpt}' in log
    assert 'unexpected key' not in log
    with open(work_dir / 'transfer_report.json') as f:
        report = json.load(f)
    pretrained = tensors(ckpt)
    for module in ('backbone', 'neck'):
        entry = report['modules'][module]
        assert set(entry['loaded']) == {k for k in pretrained if k.startswith(module)}
        assert not entry['fresh']
    finetuned = tensors(work_dir / 'iter_2.pth')
    assert any(
        not torch.equal(finetuned[k], v)
        for k, v in learned(pretrained, 'backbone.').items()
    ), 'two iterations changed nothing'


def test_mmdet_train_py_fine_tunes_swin_from_load_from(checkpoints, coco, tmp_path):
    """The Swin-T Mask R-CNN 1x config from the Swin-T FPN checkpoint."""
    mmdet_train_fine_tunes(
        SWIN_T_1X, checkpoints['pixpro_swin-t_p3-p6'], coco, tmp_path
    )


def release_checkpoint(kind, cfg, path):
    """A supervised release of ``cfg``'s (small) backbone: the Swin release
    layout or an mmpretrain ConvNeXt classifier."""
    if kind == 'swin':
        backbone = build_downstream(cfg).backbone
        torch.save(dict(model=releases.swin_release(backbone)), path)
    else:
        arch = cfg.model.backbone.arch
        backbone = dict(type='ConvNeXt', arch=arch, drop_path_rate=0.1)
        torch.save(releases.mmpretrain_classifier(backbone), path)
    return str(path)


@pytest.mark.parametrize(
    'kind, config', [('swin', SWIN_T_1X), ('convnext', CONVNEXT_T_3X)]
)
def test_a_supervised_release_loads_as_mmdet_loads_it(kind, config, tmp_path):
    """The supervised baseline: the hook's loading of the release equals
    mmdet's own (``init_cfg`` Pretrained; ``convert_weights=True`` for the
    Swin release, ``prefix='backbone.'`` for the classifier), tensor for
    tensor; the per-stage output norms the release lacks start fresh."""
    cfg = small(config)
    release = release_checkpoint(kind, cfg, tmp_path / 'release.pth')
    ours = build_downstream(cfg)
    hook = find_hook_cfg(cfg)
    report = transfer_weights(ours, release, hook.rules, hook.get('fresh', ()))
    theirs_cfg = small(config)
    theirs_cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=release)
    if kind == 'convnext':
        theirs_cfg.model.backbone.init_cfg.prefix = 'backbone.'
    theirs = build_downstream(theirs_cfg)
    theirs.backbone.init_weights()
    loaded = report['modules']['backbone']['loaded']
    fresh = report['modules']['backbone']['fresh']
    own, reference = ours.state_dict(), theirs.state_dict()
    for key in loaded:
        assert torch.equal(own[key], reference[key]), key
    norms = {f'backbone.norm{i}.{p}' for i in range(4) for p in ('weight', 'bias')}
    expected = (
        norms
        if kind == 'swin'
        else norms - {'backbone.norm3.weight', 'backbone.norm3.bias'}
    )
    assert set(fresh) == expected
    assert len(loaded) + len(fresh) == len(
        [k for k in own if k.startswith('backbone.')]
    )
    layout = 'Swin Transformer release' if kind == 'swin' else 'OpenMMLab checkpoint'
    assert report['layout'].startswith(layout)
    if kind == 'swin':  # the release written here is mmdet's converter's inverse
        from mmdet.models.backbones.swin import swin_converter

        release_state = torch.load(release, weights_only=True)['model']
        back = swin_converter(release_state)
        for key, value in theirs.backbone.state_dict().items():
            if f'backbone.{key}' in back:
                assert torch.equal(back[f'backbone.{key}'], own[f'backbone.{key}']), key


def test_mmseg_runner_fine_tunes_from_a_supervised_classifier(tmp_path):
    """The same benchmark config from an ImageNet-supervised ConvNeXt
    classifier (its release format) as load_from, through the hook, in
    mmseg's Runner: loaded as it is (lr 0), evaluated."""
    root = toy_data.make_ade20k(str(tmp_path / 'ade'))
    cfg = small(CONVNEXT_T_SEG, root)
    release = release_checkpoint('convnext', cfg, tmp_path / 'classifier.pth')
    cfg.load_from = release
    cfg.optim_wrapper.optimizer.lr = 0.0
    cfg.work_dir = str(tmp_path / 'run')
    runner = Runner.from_cfg(cfg)
    runner.train()
    with open(tmp_path / 'run' / 'transfer_report.json') as f:
        report = json.load(f)
    assert report['layout'].startswith('OpenMMLab checkpoint')
    classifier = tensors(release)
    own = runner.model.state_dict()
    for key in report['modules']['backbone']['loaded']:
        assert torch.equal(own[key], classifier[key]), key
    assert len(report['modules']['backbone']['loaded']) > 20
    assert any('mIoU' in key for key in runner.message_hub.log_scalars)


def stops_with_one_line(config, ckpt, ours, theirs, coco, tmp_path) -> None:
    """Training ``config`` from ``ckpt`` stops before the first iteration
    with one line whose checkpoint side names ``ours``, config side
    ``theirs``."""
    root, val_ann = coco
    cfg = small(config, root, val_ann=val_ann, dataset_edit=coco_split_folders)
    cfg.load_from = ckpt
    cfg.work_dir = str(tmp_path / 'run')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError) as error:
        runner.train()
    message = str(error.value)
    assert '\n' not in message and runner.iter == 0
    checkpoint_side, config_side = message.split("the config's a ")
    assert ours in checkpoint_side.split('its backbone is a ')[1]
    assert theirs in config_side


@pytest.mark.parametrize(
    'config, ours, theirs',
    [
        (CONVNEXT_T_3X, 'Swin (embed 24', 'ConvNeXt (channels 24-48-96-192'),
        (SWIN_S_3X, 'depths 1-1-2-1', 'depths 1-1-6-1'),
        (FCOS, 'Swin (embed 24', 'ResNet-18'),
    ],
    ids=['into ConvNeXt', 'Swin-T into Swin-S', 'into ResNet'],
)
def test_a_wrong_pairing_stops_with_one_line(
    config, ours, theirs, checkpoints, coco, tmp_path
):
    ckpt = checkpoints['pixpro_swin-t_p3-p6']
    stops_with_one_line(config, ckpt, ours, theirs, coco, tmp_path)


def test_output_norms_pattern_names_only_the_stage_norms():
    import re

    pattern = re.compile(OUTPUT_NORMS)
    assert pattern.search('backbone.norm3.weight')
    assert not pattern.search('backbone.stages.0.blocks.0.norm1.weight')
    assert not pattern.search('backbone.patch_embed.norm.weight')
