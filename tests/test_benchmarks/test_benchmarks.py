"""Benchmark configs fine-tune our own checkpoints in mmdet / mmseg /
mmpretrain, on generated data in the real on-disk formats; every fine-tuned
model evaluates again through tools/benchmarks/test.py."""

import glob
import json
import math
import os.path as osp
import re

import pytest
import torch
from conftest import REPO
from helpers import PayloadOnLoad, checkpoint_path, load_tool, pretrain, walk
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from test_swin_convnext_transfer import PAIRS as SWIN_CONVNEXT
from test_vit_transfer import VIT_1X
from torch.utils.data import DataLoader

from mmpixpro.analysis.compare_benchmarks import read_run
from mmpixpro.benchmarks import TransferError, transfer_weights
from mmpixpro.benchmarks.semi_coco.split import num_labelled
from mmpixpro.benchmarks.transfer import find_hook_cfg
from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data

BENCH = osp.join(REPO, 'configs', 'benchmarks')
SELFSUP = osp.join(REPO, 'configs', 'selfsup')
FCOS = osp.join(BENCH, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
MASK_FPN = osp.join(
    BENCH, 'mmdet', 'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py'
)
MASK_C4 = osp.join(
    BENCH, 'mmdet', 'mask-rcnn_r50-c4_8xb2-ms-90k_coco_paper-protocol.py'
)
VOC_C4 = osp.join(
    BENCH, 'mmdet', 'faster-rcnn_r50-c4_8xb2-ms-24k_voc0712_paper-protocol.py'
)
FCN = osp.join(
    BENCH, 'mmseg', 'fcn-d6_r50-d16_8xb2-90k_cityscapes-769x769_paper-protocol.py'
)
FCN_MMSEG = osp.join(
    BENCH, 'mmseg', 'fcn-d6_r50-d16_4xb2-40k_cityscapes-769x769_mmseg-default.py'
)
FCNS = (FCN, FCN_MMSEG)
# tested in test_fcos_one_tower.py (it needs a one-tower checkpoint)
FCOS_ONE_TOWER = osp.join(
    BENCH, 'mmdet', 'fcos_r50_fpn_gn-head-one-tower_1x_coco_mmdet-default.py'
)
LINEAR = osp.join(
    BENCH,
    'classification',
    'resnet50_linear-8xb32-steplr-100e_in1k_paper-protocol.py',
)
SEMI = {
    p: osp.join(
        BENCH,
        'mmdet',
        'semi_coco',
        f'mask-rcnn_r50_fpn_8xb2-ms-12e_coco-{p}pct_paper-arch.py',
    )
    for p in (1, 10)
}
ALL = [FCOS, MASK_FPN, MASK_C4, VOC_C4, FCN, FCN_MMSEG, LINEAR]
TESTED_AGAIN = (MASK_FPN, FCN, LINEAR)  # mmdet, mmseg, mmpretrain
PROTOCOL_SUFFIXES = (
    '_paper-protocol.py',
    '_paper-arch.py',
    '_mmdet-default.py',
    '_mmseg-default.py',
    '_mmpixpro.py',  # ours where mmdet has no config for the backbone (ViT)
)

RPN = {'rpn_head.rpn_conv', 'rpn_head.rpn_cls', 'rpn_head.rpn_reg'}
# Modules (two name levels) that start fresh with a C5 checkpoint.
FRESH_C5 = {
    FCOS: {
        'neck.fpn_convs',
        'neck.lateral_convs',
        'bbox_head.cls_convs',
        'bbox_head.reg_convs',
        'bbox_head.conv_cls',
        'bbox_head.conv_reg',
        'bbox_head.conv_centerness',
        'bbox_head.scales',
    },
    MASK_FPN: {
        'neck.fpn_convs',
        'neck.lateral_convs',
        'roi_head.bbox_head',
        'roi_head.mask_head',
        *RPN,
    },
    MASK_C4: {'roi_head.shared_head', 'roi_head.bbox_head', 'roi_head.mask_head', *RPN},
    VOC_C4: {'roi_head.shared_head', 'roi_head.bbox_head', *RPN},
    FCN: {'decode_head.conv_seg', 'decode_head.convs'},
    FCN_MMSEG: {'decode_head.conv_seg', 'decode_head.convs'},
    LINEAR: {'head.fc'},
}
PRETRAIN_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
SYNCBN = dict(type='SyncBN', requires_grad=True)


def shrink(cfg: Config, data: dict) -> Config:
    """ResNet-18, small images, fewer RoIs, 2 iterations, generated data."""
    return small_benchmark_config(
        cfg,
        data['root'],
        data['scale'],
        val_ann=data.get('val_ann'),
        dataset_edit=data.get('dataset_edit'),
        precise_bn_samples=1000,  # one pass over every training image
    )


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    coco = str(root / 'coco')
    anns = toy_data.make_coco(coco)

    coco_data = dict(
        root=coco,
        scale=(128, 96),
        val_ann=anns['val2017'],
        dataset_edit=coco_split_folders,
    )
    cityscapes = dict(
        root=toy_data.make_cityscapes(str(root / 'cityscapes')), scale=(128, 64)
    )
    return {
        FCOS: coco_data,
        MASK_FPN: coco_data,
        MASK_C4: coco_data,
        VOC_C4: dict(root=toy_data.make_voc(str(root / 'VOCdevkit')), scale=(128, 96)),
        FCN: cityscapes,
        FCN_MMSEG: cityscapes,
        LINEAR: dict(root=toy_data.make_imagenet(str(root / 'imagenet')), scale=72),
    }


def _pretrain(tmp_path_factory, config):
    return pretrain(osp.join(SELFSUP, config), tmp_path_factory.mktemp('pretrain'))


@pytest.fixture(scope='module')
def c5_ckpt(tmp_path_factory):
    return _pretrain(tmp_path_factory, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py')


@pytest.fixture(scope='module')
def fpn_head_ckpt(tmp_path_factory):
    """FCOS FPN + the first three convs of each tower."""
    return _pretrain(tmp_path_factory, 'pixpro_r50_fpn_head.py')


@pytest.fixture(scope='module')
def fcos_fpn_ckpt(tmp_path_factory):
    return _pretrain(tmp_path_factory, 'pixpro_r50_fcos-fpn_8xb128-coslr-100e_in1k.py')


@pytest.fixture(scope='module')
def mask_fpn_ckpt(tmp_path_factory):
    """The Mask R-CNN-aligned FPN pre-training (P3-P6 of Mask R-CNN's FPN)."""
    return _pretrain(tmp_path_factory, 'pixpro_r50_p3-p6_8xb128-coslr-100e_in1k.py')


def build_model(cfg):
    from mmengine.registry import MODELS, init_default_scope

    import mmpixpro.benchmarks  # noqa: F401  (what custom_imports does)

    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def fresh_modules(report):
    return {
        '.'.join(k.split('.')[:2])
        for e in report['modules'].values()
        for k in e['fresh']
    }


def check_loaded_equal(model, report, ckpt_path, rules):
    """Every tensor the report calls loaded equals its checkpoint tensor;
    returns how many."""
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    own = model.state_dict()
    n = 0
    for entry in report['modules'].values():
        for key in entry['loaded']:
            rule = next(r for r in rules if key.startswith(r['model']))
            source = rule['checkpoint'] + key[len(rule['model']) :]
            assert torch.equal(own[key], state[source]), key
            n += 1
    return n


def assert_prefix_equal(model, ckpt_path, prefixes):
    state = torch.load(ckpt_path, weights_only=True)['state_dict']
    own = model.state_dict()
    for prefix in prefixes:
        keys = [k for k in own if k.startswith(prefix)]
        assert keys, prefix
        for key in keys:
            assert torch.equal(own[key], state[key]), key


def hooks_by_type(cfg):
    return {h['type']: h for h in cfg.get('custom_hooks', [])}


def check_precise_bn(runner):
    """After precise BN over one pass of the training set (same-size images,
    no flip), the first BN's running mean is the mean of its input over all
    training images; a moving average after two steps is far from it."""
    model = runner.model
    train = runner.train_dataloader
    loader = DataLoader(train.dataset, batch_size=1, collate_fn=train.collate_fn)
    means = []
    with torch.no_grad():
        for data in loader:
            inputs = model.data_preprocessor(data, True)['inputs']
            means.append(model.backbone.conv1(inputs).mean(dim=(0, 2, 3)))
    expected = torch.stack(means).mean(0)
    torch.testing.assert_close(
        model.backbone.bn1.running_mean, expected, rtol=1e-4, atol=1e-5
    )


def no_flip(node: dict) -> None:
    if node.get('type') == 'RandomFlip':
        node['prob'] = 0.0


def last_val_metrics(work_dir):
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    metrics = [json.loads(line) for line in open(scalars[0])]
    timing = {'data_time', 'time', 'step', 'iter', 'epoch'}
    evaluated = [m for m in metrics if 'lr' not in m and set(m) - timing]
    assert evaluated, 'no evaluation was logged'
    return {k: v for k, v in evaluated[-1].items() if k not in timing}


# -- the configs and their protocol values ------------------------------------


def test_every_benchmark_config_is_tested_and_says_its_protocol():
    found = {
        p
        for p in glob.glob(osp.join(BENCH, '**', '*.py'), recursive=True)
        if '_base_' not in p
    }
    # the Swin / ConvNeXt ones: tests/test_benchmarks/test_swin_convnext_transfer.py;
    # the ViT one: tests/test_benchmarks/test_vit_transfer.py
    others = {osp.join(BENCH, config) for config in [*SWIN_CONVNEXT, VIT_1X]}
    assert found == {*ALL, *SEMI.values(), FCOS_ONE_TOWER, *others}
    for path in found:
        assert path.endswith(PROTOCOL_SUFFIXES), path


COCO_SCALES = [(1333, s) for s in (640, 672, 704, 736, 768, 800)]
VOC_SCALES = [(1333, s) for s in range(480, 801, 32)]
# config -> max iterations, lr steps, warm-up iterations, training scales
D2 = {
    MASK_FPN: (90000, [60000, 80000], 1000, COCO_SCALES),
    MASK_C4: (90000, [60000, 80000], 1000, COCO_SCALES),
    VOC_C4: (24000, [18000, 22000], 100, VOC_SCALES),
}


def pipelines(loader):
    dataset = loader.dataset
    return [d.pipeline for d in dataset.get('datasets', [dataset])]


def transforms(pipeline, word):
    return [dict(t) for t in pipeline if word in t['type']]


@pytest.mark.parametrize('config', list(D2), ids=osp.basename)
def test_detectron2_protocol_values(config):
    cfg = Config.fromfile(config)
    max_iters, steps, warmup, scales = D2[config]
    # 16 images per iteration: 8 GPUs x 2 (the name's "8xb2")
    assert cfg.train_dataloader.batch_size == 2 and '_8xb2-' in config
    assert cfg.auto_scale_lr.base_batch_size == 16
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum) == ('SGD', 0.02, 0.9)
    assert optimizer.weight_decay == 1e-4
    assert cfg.optim_wrapper.paramwise_cfg == dict(norm_decay_mult=0.0)
    assert cfg.train_cfg == dict(
        type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters
    )
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    warm, step = cfg.param_scheduler
    assert (warm.type, warm.start_factor, warm.begin, warm.end) == (
        'LinearLR',
        0.001,
        0,
        warmup,
    )
    assert (step.type, step.milestones, step.gamma, step.end) == (
        'MultiStepLR',
        steps,
        0.1,
        max_iters,
    )
    assert not warm.by_epoch and not step.by_epoch
    for pipeline in pipelines(cfg.train_dataloader):
        assert transforms(pipeline, 'Resize') == [
            dict(type='RandomChoiceResize', scales=scales, keep_ratio=True)
        ]
        assert transforms(pipeline, 'Flip') == [dict(type='RandomFlip', prob=0.5)]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        (pipeline,) = pipelines(loader)
        assert transforms(pipeline, 'Resize') == [
            dict(type='Resize', scale=(1333, 800), keep_ratio=True)
        ]
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth, backbone.style) == ('ResNet', 50, 'pytorch')
    assert backbone.norm_cfg == SYNCBN and backbone.norm_eval is False
    assert backbone.frozen_stages == -1
    # precise BN: 200 iterations of the 16-image batch before the evaluation
    assert hooks_by_type(cfg)['mmpixpro.PreciseBNBeforeEvalHook']['num_samples'] == 3200
    assert cfg.default_hooks.checkpoint.interval == 5000


@pytest.mark.parametrize('config', list(D2), ids=osp.basename)
def test_rpn_trains_as_detectron2(config):
    """detectron2 0.2.1: RPN.BOUNDARY_THRESH = -1 (anchors across the image
    border are trained on) and the RPN matcher's allow_low_quality_matches
    (each ground-truth box's best anchors are positive at any IoU)."""
    cfg = Config.fromfile(config)
    rpn = cfg.model.train_cfg.rpn
    assert rpn.allowed_border == -1
    assigner = rpn.assigner
    assert (assigner.type, assigner.pos_iou_thr, assigner.neg_iou_thr) == (
        'MaxIoUAssigner',
        0.7,
        0.3,
    )
    assert assigner.match_low_quality is True and assigner.min_pos_iou == 0.0
    assert assigner.get('gt_max_assign_all', True) is True  # all tied best
    # As built: the RPN head holds these.
    model = build_model(shrink(cfg, dict(root='data', scale=(128, 96))))
    assert model.rpn_head.train_cfg['allowed_border'] == -1
    assert model.rpn_head.assigner.min_pos_iou == 0.0
    assert model.rpn_head.assigner.match_low_quality


@pytest.mark.parametrize(
    'config', [MASK_FPN, MASK_C4, *SEMI.values()], ids=osp.basename
)
def test_mask_targets_from_polygons_cropped_to_each_roi(config, data):
    """poly2mask=False: the masks stay polygons (PolygonMasks), which
    mmdet's mask targets crop to each RoI and rasterise there, as
    detectron2 does; the training sample holds polygons, not bitmaps."""
    from mmdet.structures.mask import PolygonMasks

    cfg = Config.fromfile(config)
    for pipeline in pipelines(cfg.train_dataloader):
        (load,) = transforms(pipeline, 'LoadAnnotations')
        assert load == dict(
            type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False
        )
    cfg = shrink(cfg, data[MASK_FPN])
    with DefaultScope.overwrite_default_scope('mmdet'):
        from mmdet.registry import DATASETS

        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        sample = dataset[0]['data_samples']
    masks = sample.gt_instances.masks
    assert isinstance(masks, PolygonMasks) and len(masks) == len(sample.gt_instances)


def test_mask_rcnn_fpn_protocol_network():
    cfg = Config.fromfile(MASK_FPN)
    model = cfg.model
    assert model.neck == dict(
        type='mmdet.FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        num_outs=5,
        norm_cfg=SYNCBN,
    )
    box = model.roi_head.bbox_head
    assert box.type == 'Shared4Conv1FCBBoxHead' and box.norm_cfg == SYNCBN
    assert (box.conv_out_channels, box.fc_out_channels) == (256, 1024)
    mask = model.roi_head.mask_head
    assert (mask.type, mask.num_convs, mask.norm_cfg) == ('FCNMaskHead', 4, SYNCBN)
    rpn_train, rpn_test = model.train_cfg.rpn_proposal, model.test_cfg.rpn
    assert (rpn_train.nms_pre, rpn_train.max_per_img) == (2000, 1000)
    assert (rpn_test.nms_pre, rpn_test.max_per_img) == (1000, 1000)
    assert cfg.train_dataloader.dataset.ann_file.endswith('instances_train2017.json')
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    # As built: SyncBN after every conv of the FPN, the 4 box convs and the
    # 4 mask convs; one shared fc.
    built = build_model(cfg)
    convs = [
        *built.neck.lateral_convs,
        *built.neck.fpn_convs,
        *built.roi_head.bbox_head.shared_convs,
        *built.roi_head.mask_head.convs,
    ]
    assert len(convs) == 4 + 4 + 4 + 4
    assert all(isinstance(c.bn, torch.nn.SyncBatchNorm) for c in convs)
    assert len(built.roi_head.bbox_head.shared_fcs) == 1
    rules = hooks_by_type(cfg)['mmpixpro.PretrainedTransferHook']['rules']
    assert [(r['model'], r['checkpoint']) for r in rules] == [
        ('backbone.', 'backbone.'),
        ('neck.', 'neck.'),
    ]


def test_mask_rcnn_fpn_takes_its_neck_from_the_shared_file():
    """Pre-training and benchmark read Mask R-CNN's FPN from one file."""
    shared = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'mask_rcnn_fpn.py'))
    pre = Config.fromfile(
        osp.join(SELFSUP, 'pixpro_r50_p3-p6_8xb128-coslr-100e_in1k.py')
    )
    bench = Config.fromfile(MASK_FPN)
    assert pre.model.neck == shared.mask_rcnn_neck == bench.model.neck


@pytest.mark.parametrize('config', [MASK_C4, VOC_C4], ids=osp.basename)
def test_c4_protocol_network(config):
    model = Config.fromfile(config).model
    head = model.roi_head.shared_head
    assert head.type == 'ResLayerExtraNorm' and head.norm_cfg == SYNCBN
    assert head.norm_eval is False and head.style == 'pytorch'
    assert (model.backbone.num_stages, model.backbone.out_indices) == (3, (2,))
    # RPN (detectron2 C4): 12000 / 2000 proposals before / after NMS in
    # training, 6000 / 1000 at test
    rpn_train, rpn_test = model.train_cfg.rpn_proposal, model.test_cfg.rpn
    assert (rpn_train.nms_pre, rpn_train.max_per_img) == (12000, 2000)
    assert (rpn_test.nms_pre, rpn_test.max_per_img) == (6000, 1000)
    assert model.roi_head.bbox_roi_extractor.roi_layer.output_size == 14
    if config == MASK_C4:
        assert model.roi_head.mask_head.num_convs == 0


def test_voc_data_and_metric():
    cfg = Config.fromfile(VOC_C4)
    datasets = cfg.train_dataloader.dataset.datasets
    assert [(d.ann_file, d.data_prefix.sub_data_root) for d in datasets] == [
        ('VOC2007/ImageSets/Main/trainval.txt', 'VOC2007/'),
        ('VOC2012/ImageSets/Main/trainval.txt', 'VOC2012/'),
    ]
    val = cfg.val_dataloader.dataset
    assert (val.ann_file, val.data_prefix.sub_data_root) == (
        'VOC2007/ImageSets/Main/test.txt',
        'VOC2007/',
    )
    # difficult objects: trained on (detectron2's VOC loader), ignored by the
    # evaluation (VOC's rule); test_voc_difficult.py runs both
    assert [d.type for d in datasets] == ['mmpixpro.VOCDatasetWithDifficult'] * 2
    assert val.type == 'VOCDataset' and cfg.test_dataloader.dataset.type == 'VOCDataset'
    assert cfg.model.roi_head.bbox_head.num_classes == 20
    # detectron2's VOC "AP": VOC07 11-point AP averaged over IoU .50:.05:.95
    metric = cfg.val_evaluator
    assert (metric.type, metric.metric, metric.eval_mode) == (
        'VOCMetric',
        'mAP',
        '11points',
    )
    assert metric.iou_thrs == pytest.approx([0.5 + 0.05 * i for i in range(10)])


@pytest.mark.parametrize('config', FCNS, ids=osp.basename)
def test_cityscapes_paper_network(config):
    cfg = Config.fromfile(config)
    backbone, head = cfg.model.backbone, cfg.model.decode_head
    assert (backbone.type, backbone.depth) == ('ResNet', 50)
    assert backbone.strides == (1, 2, 2, 1) and backbone.dilations == (1, 1, 1, 2)
    assert backbone.contract_dilation is False
    assert (head.type, head.num_convs, head.channels, head.dilation) == (
        'FCNHead',
        2,
        256,
        6,
    )
    assert head.concat_input is False and cfg.model.auxiliary_head is None
    assert backbone.norm_cfg == SYNCBN == head.norm_cfg
    # As built: every conv5 3x3 conv dilated by 2 with stride 1 (output
    # stride 16), then two 3x3 convs of 256 channels, dilation 6, and a 1x1
    # classifier.
    model = build_model(cfg)
    for block in model.backbone.layer4:
        assert block.conv2.dilation == (2, 2) and block.conv2.stride == (1, 1)
    convs = [m.conv for m in model.decode_head.convs]
    assert [(c.kernel_size, c.dilation, c.out_channels) for c in convs] == [
        ((3, 3), (6, 6), 256)
    ] * 2
    assert model.decode_head.conv_seg.kernel_size == (1, 1)
    model.eval()
    with torch.no_grad():
        c5 = model.backbone(torch.zeros(1, 3, 64, 64))[-1]
    assert c5.shape[-2:] == (4, 4)


def test_cityscapes_moco_protocol_values():
    """MoCo's appendix (the paper: "We follow the settings of MoCo"): batch
    16 (8 GPUs x 2), weight decay 1e-4, lr 0.01 x 0.1 at 70 % and 90 % of
    90k iterations, random scaling 0.5-2, 769 x 769 crops, flipping,
    inference on the whole image; momentum, warm-up and norm-layer decay
    are detectron2's defaults."""
    cfg = Config.fromfile(FCN)
    assert cfg.default_scope == 'mmseg'
    assert cfg.train_dataloader.batch_size == 2 and '_8xb2-' in FCN
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum) == ('SGD', 0.01, 0.9)
    assert optimizer.weight_decay == 1e-4
    assert cfg.optim_wrapper.paramwise_cfg == dict(norm_decay_mult=0.0)
    max_iters = 90000
    loop = cfg.train_cfg
    assert (loop.type, loop.max_iters, loop.val_interval) == (
        'IterBasedTrainLoop',
        max_iters,
        max_iters,
    )
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    warm, step = cfg.param_scheduler
    assert (warm.type, warm.start_factor, warm.begin, warm.end, warm.by_epoch) == (
        'LinearLR',
        0.001,
        0,
        1000,
        False,
    )
    assert (step.type, step.gamma, step.end, step.by_epoch) == (
        'MultiStepLR',
        0.1,
        max_iters,
        False,
    )
    assert step.milestones == [round(0.7 * max_iters), round(0.9 * max_iters)]
    # data: Cityscapes fine train -> val
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert train.type == val.type == 'CityscapesDataset'
    assert train.data_prefix == dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train'
    )
    assert val.data_prefix == dict(
        img_path='leftImg8bit/val', seg_map_path='gtFine/val'
    )
    # training: scale 0.5..2 of the 2048 x 1024 images, 769 crops, flip,
    # nothing else (no photometric distortion)
    assert [dict(t) for t in train.pipeline] == [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(
            type='RandomResize',
            scale=(2048, 1024),
            ratio_range=(0.5, 2.0),
            keep_ratio=True,
        ),
        dict(type='RandomCrop', crop_size=(769, 769)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    assert cfg.model.data_preprocessor.size == (769, 769)  # padded to the crop
    # inference: the whole image, at its own size
    assert cfg.model.test_cfg == dict(mode='whole')
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert [t['type'] for t in loader.dataset.pipeline] == [
            'LoadImageFromFile',
            'LoadAnnotations',
            'PackSegInputs',
        ]
    assert cfg.default_hooks.checkpoint.interval == 5000
    # the paper's network, as in the mmseg-recipe config
    mmseg = Config.fromfile(FCN_MMSEG)
    for key in ('backbone', 'decode_head', 'auxiliary_head', 'data_preprocessor'):
        assert cfg.model[key] == mmseg.model[key], key


def test_cityscapes_mmseg_recipe_values():
    """The renamed config keeps mmseg's own recipe for FCN-D6 769."""
    cfg = Config.fromfile(FCN_MMSEG)
    assert cfg.train_cfg.max_iters == 40000
    assert cfg.train_dataloader.batch_size == 2 and '_4xb2-' in FCN_MMSEG
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.weight_decay) == (0.01, 5e-4)
    (poly,) = cfg.param_scheduler
    assert poly.type == 'PolyLR'
    assert 'PhotoMetricDistortion' in [
        t['type'] for t in cfg.train_dataloader.dataset.pipeline
    ]
    assert cfg.model.test_cfg.mode == 'slide'


def test_linear_evaluation_protocol():
    cfg = Config.fromfile(LINEAR)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum) == ('SGD', 30.0, 0.9)
    assert optimizer.weight_decay == 0
    (step,) = cfg.param_scheduler
    assert (step.type, step.milestones, step.gamma, step.by_epoch) == (
        'MultiStepLR',
        [60, 80],
        0.1,
        True,
    )
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.train_dataloader.batch_size == 32 and '8xb32' in LINEAR  # 256
    assert cfg.model.backbone.frozen_stages == 4 and cfg.model.backbone.norm_eval


def test_fcos_mmdet_default_values():
    cfg = Config.fromfile(FCOS)
    shared = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'fcos_fpn_head.py'))
    assert cfg.model.neck == shared.fcos_neck
    assert cfg.model.bbox_head.stacked_convs == 4  # the detector's; 3 pre-trained
    assert shared.fcos_pretrained_towers.stacked_convs == 3
    assert cfg.train_cfg.max_epochs == 12 and cfg.optim_wrapper.optimizer.lr == 0.01


@pytest.mark.parametrize('percent', sorted(SEMI))
def test_semi_supervised_configs(percent):
    cfg = Config.fromfile(SEMI[percent])
    paper = Config.fromfile(MASK_FPN)
    assert cfg.model == paper.model  # the paper's network, data and optimiser
    assert cfg.optim_wrapper == paper.optim_wrapper
    assert pipelines(cfg.train_dataloader) == pipelines(paper.train_dataloader)
    assert cfg.train_dataloader.dataset.ann_file == (
        f'semi_anns/instances_train2017.1@{percent}.json'
    )
    assert cfg.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=12, val_interval=12
    )
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
    rules = hooks_by_type(cfg)['mmpixpro.PretrainedTransferHook']['rules']
    assert {r['model'] for r in rules} == {'backbone.', 'neck.'}
    assert 'mmpixpro.PreciseBNBeforeEvalHook' in hooks_by_type(cfg)


COCO_TRAIN2017_IMAGES = 118287


@pytest.mark.parametrize('percent, about', [(1, 890), (10, 8900)])
def test_semi_supervised_iterations_per_fold(percent, about):
    """This project's schedule (the paper gives none): 12 epochs over the
    fold of 16-image batches, i.e. the 90k-iteration budget of the full set
    (12 epochs of train2017) scaled by the fold: ~890 iterations at 1 %,
    ~8.9k at 10 % (README)."""
    cfg = Config.fromfile(SEMI[percent])
    images = num_labelled(COCO_TRAIN2017_IMAGES, percent)
    gpus = 8  # the name's "8xb2"
    assert f'_{gpus}xb{cfg.train_dataloader.batch_size}-' in SEMI[percent]
    per_iteration = gpus * cfg.train_dataloader.batch_size
    iters = cfg.train_cfg.max_epochs * math.ceil(images / per_iteration)
    assert iters == pytest.approx(about, rel=0.01)
    full = Config.fromfile(MASK_FPN).train_cfg.max_iters
    assert iters == pytest.approx(full * percent / 100, rel=0.02)


@pytest.mark.parametrize('config', [*ALL, FCOS_ONE_TOWER], ids=osp.basename)
def test_input_normalisation_equals_pretraining(config):
    pre = Config.fromfile(osp.join(SELFSUP, 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'))
    pre_norm = pre.model.data_preprocessor
    assert (
        dict(mean=pre_norm.mean, std=pre_norm.std) == PRETRAIN_NORM and pre_norm.to_rgb
    )
    cfg = Config.fromfile(config).model.data_preprocessor
    assert list(cfg.mean) == PRETRAIN_NORM['mean']
    assert list(cfg.std) == PRETRAIN_NORM['std']
    assert cfg.get('bgr_to_rgb', cfg.get('to_rgb')) is True


@pytest.mark.parametrize('config', [*ALL, FCOS_ONE_TOWER], ids=osp.basename)
def test_backbone_as_pretrained(config):
    cfg = Config.fromfile(config)
    backbone = cfg.model.backbone
    assert backbone.get('style', 'pytorch') == 'pytorch'
    assert backbone.get('init_cfg') is None and cfg.model.get('pretrained') is None
    if config != LINEAR:
        assert backbone.norm_cfg.type == 'SyncBN' and backbone.norm_eval is False
        assert backbone.get('frozen_stages', -1) == -1
    assert backbone.type == 'ResNet'  # not ResNetV1c: stem names must match
    # Nothing is downloaded: no URL or model-zoo checkpoint anywhere.
    urls = []
    walk(cfg._cfg_dict, lambda n: urls.extend(v for v in n.values() if '://' in str(v)))
    assert not urls, urls


# -- fine-tuning -----------------------------------------------------------------


@pytest.mark.parametrize('config', ALL, ids=osp.basename)
def test_benchmark_loads_our_checkpoint_trains_and_tests(
    config, data, c5_ckpt, tmp_path
):
    cfg = shrink(Config.fromfile(config), data[config])
    precise = 'mmpixpro.PreciseBNBeforeEvalHook' in hooks_by_type(cfg)
    if precise:  # the check below needs the same pixels at every pass
        walk(cfg._cfg_dict, no_flip)
    if config == FCN:  # the hook also runs in mmseg's Runner (InfiniteSampler)
        cfg.custom_hooks.append(
            dict(type='mmpixpro.PreciseBNBeforeEvalHook', num_samples=4)
        )
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    report = transfer_weights(model, c5_ckpt, hook.rules, hook.get('fresh', ()))
    assert check_loaded_equal(model, report, c5_ckpt, hook.rules) == sum(
        len(e['loaded']) for e in report['modules'].values()
    )
    backbone = report['modules']['backbone']
    assert backbone['loaded'] and not backbone['fresh']
    assert fresh_modules(report) == FRESH_C5[config]
    if 'neck' in report['modules']:
        assert 'neck.* starts fresh: the checkpoint has no neck.*' in report['notes']
    if 'shared_head' in str(cfg.model.get('roi_head', '')):
        loaded = report['modules']['roi_head']['loaded']
        assert any(k.startswith('roi_head.shared_head.layer4.') for k in loaded)
        fresh = report['modules']['roi_head']['fresh']
        assert [k for k in fresh if 'shared_head' in k] == [
            k for k in model.state_dict() if k.startswith('roi_head.shared_head.norm.')
        ]

    # The real thing: the config's own Runner, our hook, two iterations, eval.
    hook.checkpoint = c5_ckpt
    cfg.work_dir = str(tmp_path)
    # mmdet / mmseg name their visualizer 'visualizer': a process-wide
    # singleton that would keep writing into the first test's folder.
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    with open(osp.join(tmp_path, 'transfer_report.json')) as f:
        saved = json.load(f)
    assert fresh_modules(saved) == FRESH_C5[config]
    if precise:
        check_precise_bn(runner)
    if config == FCN:
        (log,) = glob.glob(osp.join(tmp_path, '*', '*.log'))  # R18: 20 + head 2
        assert 'Precise BN: statistics of 22 BN layers' in open(log).read()
    validated = last_val_metrics(str(tmp_path))
    # tools/analysis/compare_benchmarks.py reads the same run from its work dir
    run = read_run(str(tmp_path))
    assert run.benchmark == osp.splitext(osp.basename(config))[0]
    assert run.checkpoint == c5_ckpt
    assert run.layout == 'mmpixpro pre-training checkpoint'
    key = run.family.metrics[0][0]
    assert run.values[0] == pytest.approx(validated[key] * run.family.scale)

    # tools/benchmarks/test.py evaluates the fine-tuned checkpoint again:
    # the same numbers as the evaluation at the end of training (one config
    # per downstream project).
    if config not in TESTED_AGAIN:
        return
    config_file = str(tmp_path / 'finetune_config.py')
    cfg.dump(config_file)
    test_tool = load_tool('tools/benchmarks/test.py')
    out = str(tmp_path / 'metrics.json')
    args = [config_file, checkpoint_path(str(tmp_path)), '--out', out]
    metrics = test_tool.main(args + ['--work-dir', str(tmp_path / 'test')])
    assert set(metrics) == set(validated)
    for key, value in validated.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
    with open(out) as f:
        assert json.load(f) == pytest.approx(metrics)


# -- which tensors come from which pre-training ----------------------------------


def test_mask_rcnn_fpn_takes_backbone_and_fpn_of_the_aligned_pretraining(
    data, mask_fpn_ckpt
):
    for config in (MASK_FPN, *SEMI.values()):
        cfg = shrink(Config.fromfile(config), data[MASK_FPN])
        hook = find_hook_cfg(cfg)
        model = build_model(cfg)
        report = transfer_weights(model, mask_fpn_ckpt, hook.rules)
        assert_prefix_equal(model, mask_fpn_ckpt, ('backbone.', 'neck.'))
        assert not report['modules']['neck']['fresh']
        assert fresh_modules(report) == {
            'roi_head.bbox_head',
            'roi_head.mask_head',
            *RPN,
        }
        assert not report['notes']


def test_fcos_takes_fpn_and_three_tower_convs_from_the_head_pretraining(
    data, fpn_head_ckpt
):
    cfg = shrink(Config.fromfile(FCOS), data[FCOS])
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    report = transfer_weights(model, fpn_head_ckpt, hook.rules, hook.fresh)
    assert check_loaded_equal(model, report, fpn_head_ckpt, hook.rules) > 0
    assert_prefix_equal(model, fpn_head_ckpt, ('backbone.', 'neck.'))
    loaded = set(report['modules']['bbox_head']['loaded'])
    fresh = report['modules']['bbox_head']['fresh']
    for tower in ('cls_convs', 'reg_convs'):
        for i in range(4):  # convs 0-2 pre-trained, the detector's 4th fresh
            keys = [
                k for k in model.state_dict() if k.startswith(f'bbox_head.{tower}.{i}.')
            ]
            assert keys and all((k in loaded) == (i < 3) for k in keys), (tower, i)
    assert {k.split('.')[1] for k in fresh} == {
        'cls_convs',
        'reg_convs',
        'conv_cls',
        'conv_reg',
        'conv_centerness',
        'scales',
    }
    (note,) = report['notes']
    assert 'bbox_head.cls_convs.3.conv' in note and 'bbox_head.reg_convs.3.gn' in note
    assert 'cls_convs.2' not in note


def test_fcos_takes_backbone_and_fpn_of_the_fpn_pretraining(data, fcos_fpn_ckpt):
    cfg = shrink(Config.fromfile(FCOS), data[FCOS])
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    report = transfer_weights(model, fcos_fpn_ckpt, hook.rules, hook.fresh)
    assert_prefix_equal(model, fcos_fpn_ckpt, ('backbone.', 'neck.'))
    assert not report['modules']['bbox_head']['loaded']
    assert report['notes'] == [
        'bbox_head.* starts fresh: the checkpoint has no bbox_head.*'
    ]


def test_an_fcos_fpn_does_not_load_into_mask_rcnn(data, fcos_fpn_ckpt):
    cfg = shrink(Config.fromfile(MASK_FPN), data[MASK_FPN])
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TransferError, match=re.escape("is not this model's neck.*")):
        transfer_weights(model, fcos_fpn_ckpt, hook.rules)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # nothing copied


# -- bad input ----------------------------------------------------------------------


@pytest.mark.payload
def test_launcher_refuses_bad_checkpoints(tmp_path):
    bench = load_tool('tools/benchmarks/train.py')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        bench.main([FCN, str(tmp_path / 'nope.pth'), '--work-dir', str(tmp_path)])
    # A checkpoint in no known layout (tests/test_benchmarks/test_layouts.py
    # has the layouts)
    foreign = tmp_path / 'foreign.pth'
    torch.save({'encoder.conv1.weight': torch.zeros(64, 3, 7, 7)}, foreign)
    with pytest.raises(TransferError, match='in no checkpoint layout known here'):
        bench.main([FCN, str(foreign), '--work-dir', str(tmp_path)])
    # A pickled payload is refused, not executed.
    marker = tmp_path / 'payload-ran'
    evil = tmp_path / 'evil.pth'
    torch.save(
        {'state_dict': {'backbone.x': torch.zeros(1)}, 'x': PayloadOnLoad(marker)},
        evil,
    )
    with pytest.raises(
        TransferError, match=r'holds (builtins|io)\.open, which is code'
    ):
        bench.main([FCN, str(evil), '--work-dir', str(tmp_path)])
    assert not marker.exists()


@pytest.mark.payload
def test_test_tool_refuses_what_is_not_a_finetuned_model(tmp_path, c5_ckpt):
    test_tool = load_tool('tools/benchmarks/test.py')
    work = ['--work-dir', str(tmp_path / 'work')]
    work += ['--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}']
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        test_tool.main([FCN, str(tmp_path / 'nope.pth'), *work])
    # A pre-training checkpoint is not a whole segmentor: refused, naming its
    # layout and a tensor it lacks, instead of evaluating random heads.
    with pytest.raises(
        TransferError, match=r'pre-training checkpoint \(mmpixpro pre-training'
    ) as info:
        test_tool.main([FCN, c5_ckpt, *work])
    assert 'decode_head.conv_seg.weight' in str(info.value)
    # One in no known layout: strict loading names what does not fit.
    unknown = tmp_path / 'unknown.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, unknown)
    with pytest.raises(
        ValueError, match=r'missing: backbone\.conv1\.weight, .*; 1 unexpected: w$'
    ):
        test_tool.main([FCN, str(unknown), *work])
    marker = tmp_path / 'payload-ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': PayloadOnLoad(marker)}, evil)
    with pytest.raises(
        TransferError, match=r'holds (builtins\.|io\.)?open, which is code'
    ):
        test_tool.main([FCN, str(evil), *work])
    assert not marker.exists()


def test_backbone_that_does_not_fit_stops_before_training(data, c5_ckpt, tmp_path):
    cfg = Config.fromfile(FCN)  # ResNet-50 against an R18 checkpoint
    hook = find_hook_cfg(cfg)
    model = build_model(cfg)
    with pytest.raises(
        TransferError, match=re.escape('backbone.layer1.0.conv1.weight')
    ):
        transfer_weights(model, c5_ckpt, hook.rules, hook.get('fresh', ()))
    # Through the Runner: the hook raises before the first iteration.
    cfg = shrink(Config.fromfile(FCN), data[FCN])
    cfg.model.backbone.depth = 50
    cfg.model.decode_head.in_channels = 2048
    find_hook_cfg(cfg).checkpoint = c5_ckpt
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TransferError, match='does not fit'):
        runner.train()
    assert runner.iter == 0
