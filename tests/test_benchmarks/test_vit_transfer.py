"""A plain-ViT checkpoint in the ViT Mask R-CNN benchmark (small versions):
mmdet's Mask R-CNN R50-FPN 1x but for the ViT, the pyramid, the optimiser
and the hooks; every backbone tensor, and every pyramid tensor after pyramid
pre-training, loads unconverted; mmdet's train.py fine-tunes from load_from;
a supervised classifier loads as the baseline; a wrong pairing stops with
one line naming both architectures."""

import os.path as osp

import pytest
import torch
from conftest import REPO
from helpers import build_downstream, small_pretraining_checkpoints
from mmengine.config import Config
from test_downstream_train import tensors
from test_swin_convnext_transfer import (
    ADDED,
    SWIN_T_1X,
    mmdet_train_fine_tunes,
    small,
    stops_with_one_line,
    without_scope,
)

from mmpixpro.benchmarks import transfer_weights
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import releases

BENCH = osp.join(REPO, 'configs', 'benchmarks')
SELFSUP = osp.join(REPO, 'configs', 'selfsup')
S = '8xb64-amp-coslr-100e_in1k.py'
VIT_1X = 'mmdet/mask-rcnn_vit-b-p16_simple-fpn_1x_coco_mmpixpro.py'


def mmdet_config(path: str) -> Config:
    """One of mmdet's own configs, by its path under mmdet's configs."""
    import mmdet

    return Config.fromfile(
        osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', path)
    )


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Small checkpoints: a Runner's (one iteration on the photos) for the
    ViT pyramid reading; the built models' tensors for the ViT C4 and the
    Swin-T FPN readings."""
    names = {
        'vit_p3-p6': f'pixpro_vit-b-p16_p3-p6_{S}',
        'vit_c4': f'pixpro_vit-b-p16_c4_{S}',
        'swin': f'pixpro_swin-t_p3-p6_{S}',
    }
    found = small_pretraining_checkpoints(
        tmp_path_factory, names.values(), trained=[names['vit_p3-p6']]
    )
    return {key: found[name] for key, name in names.items()}


def test_mmdets_mask_rcnn_but_for_backbone_pyramid_optimiser_and_hooks():
    """The merged config is mmdet's Mask R-CNN R50-FPN 1x (its heads, data,
    schedule length) with the ViT and the pyramid of
    configs/_base_/vit_simple_pyramid.py, mmdet's Swin-T 1x AdamW and
    warm-up, and the two hooks; nothing to download."""
    ours = Config.fromfile(osp.join(BENCH, VIT_1X))
    theirs = mmdet_config('mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py').to_dict()
    swin = mmdet_config('swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py')
    mine = without_scope(ours.to_dict())
    shared = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'vit_simple_pyramid.py')
    ).to_dict()
    for part, name in (('backbone', 'vit_b_p16'), ('neck', 'vit_simple_pyramid')):
        expected = {k: v for k, v in shared[name].items() if k != '_delete_'}
        mine['model'].pop(part)
        assert ours.model[part] == expected
    assert theirs['model'].pop('backbone')['type'] == 'ResNet'
    assert theirs['model'].pop('neck')['type'] == 'FPN'
    assert ours.param_scheduler == swin.param_scheduler
    assert ours.optim_wrapper.optimizer == swin.optim_wrapper.optimizer
    assert mine.pop('optim_wrapper')['paramwise_cfg'] == dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        },
    )
    hooks = [h['type'] for h in mine['custom_hooks']]
    assert hooks == ['mmpixpro.PretrainedTransferHook', 'mmpixpro.PlainCheckpointHook']
    for key in ADDED | {'vit_b_p16', 'vit_simple_pyramid', 'param_scheduler'}:
        mine.pop(key, None)
    for key in ('optim_wrapper', 'param_scheduler'):
        theirs.pop(key)
    assert mine == theirs
    assert '://' not in repr(mine)


def test_the_pyramid_gives_the_heads_their_levels():
    """P2-P6 at strides 4-64 and 256 channels: the levels mmdet's RPN
    (anchor strides) and RoI extractors (feature strides) were set for."""
    cfg = small(VIT_1X)
    model = build_downstream(cfg)
    feats = model.extract_feat(torch.randn(1, 3, 128, 192))
    assert [tuple(f.shape[1:]) for f in feats] == [
        (256, 32, 48),
        (256, 16, 24),
        (256, 8, 12),
        (256, 4, 6),
        (256, 2, 3),
    ]
    assert cfg.model.rpn_head.anchor_generator.strides == [4, 8, 16, 32, 64]
    assert cfg.model.roi_head.bbox_roi_extractor.featmap_strides == [4, 8, 16, 32]


@pytest.mark.parametrize('reading', ['vit_p3-p6', 'vit_c4'])
def test_the_checkpoint_loads_unconverted(reading, checkpoints):
    """Every backbone tensor of the Mask R-CNN mmdet builds, and every
    pyramid tensor after pyramid pre-training, equals the checkpoint's; the
    report lists every tensor of the model."""
    cfg = small(VIT_1X)
    model = build_downstream(cfg)
    ckpt = checkpoints[reading]
    hook = find_hook_cfg(cfg)
    report = transfer_weights(model, ckpt, hook.rules, hook.get('fresh', ()))
    state, own = tensors(ckpt), model.state_dict()
    parts = ['backbone.', 'neck.'] if reading == 'vit_p3-p6' else ['backbone.']
    for prefix in parts:
        keys = [k for k in own if k.startswith(prefix)]
        assert len(keys) > 20
        for key in keys:
            assert torch.equal(own[key], state[key]), key
        assert not report['modules'][prefix[:-1]]['fresh']
    listed = [k for e in report['modules'].values() for k in e['loaded'] + e['fresh']]
    assert sorted(listed) == sorted(own)
    assert report['layout'] == 'mmpixpro pre-training checkpoint'
    if reading == 'vit_c4':
        assert 'neck.* starts fresh: the checkpoint has no neck.*' in report['notes']


def test_a_supervised_classifier_loads_as_the_baseline(tmp_path):
    """The supervised baseline on the same footing: an ImageNet-supervised
    ViT in mmpretrain's release format (``ImageClassifier``, the ViT in its
    classification form: class-token output) goes through the same hook;
    every backbone tensor of the Mask R-CNN loads and equals the release's,
    the classifier's head is left and said so, the pyramid starts fresh."""
    cfg = small(VIT_1X)
    backbone = {k: v for k, v in cfg.model.backbone.items() if k != 'init_cfg'}
    backbone.update(out_type='cls_token')
    release = str(tmp_path / 'vit_classifier.pth')
    torch.save(releases.mmpretrain_classifier(backbone), release)
    model = build_downstream(cfg)
    hook = find_hook_cfg(cfg)
    report = transfer_weights(model, release, hook.rules, hook.get('fresh', ()))
    assert report['layout'].startswith('OpenMMLab checkpoint')
    state, own = tensors(release), model.state_dict()
    keys = [k for k in own if k.startswith('backbone.')]
    assert sorted(report['modules']['backbone']['loaded']) == sorted(keys)
    assert len(keys) > 20
    for key in keys:
        assert torch.equal(own[key], state[key]), key
    assert any(n.startswith('head.*') and 'not loaded' in n for n in report['notes'])
    assert 'neck.* starts fresh: the checkpoint has no neck.*' in report['notes']


def test_mmdet_train_py_fine_tunes_the_vit_from_load_from(checkpoints, coco, tmp_path):
    """The ViT Mask R-CNN from the pyramid checkpoint, by mmdet's train.py:
    backbone and pyramid loaded by the hook, two iterations trained."""
    mmdet_train_fine_tunes(VIT_1X, checkpoints['vit_p3-p6'], coco, tmp_path)


@pytest.mark.parametrize(
    'config, checkpoint, ours, theirs',
    [
        (SWIN_T_1X, 'vit_p3-p6', 'ViT (embed 192', 'Swin (embed 24'),
        (VIT_1X, 'swin', 'Swin (embed 24', 'ViT (embed 192'),
    ],
    ids=['ViT into Swin', 'Swin into ViT'],
)
def test_a_wrong_pairing_stops_with_one_line(
    config, checkpoint, ours, theirs, checkpoints, coco, tmp_path
):
    stops_with_one_line(config, checkpoints[checkpoint], ours, theirs, coco, tmp_path)
