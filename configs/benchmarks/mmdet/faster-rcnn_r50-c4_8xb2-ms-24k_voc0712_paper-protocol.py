# Faster R-CNN R50-C4 on Pascal VOC, the paper's protocol (Table 1 "VOC",
# Table 2 VOC AP): the authors' Pascal_VOC_R_50_C4_24k.yaml
# (Base-RCNN-C4-BN.yaml) on detectron2's defaults. VOC07+12 trainval ->
# VOC07 test; 24k iterations of 16 images, lr 0.02 (steps at 18k / 22k, 100
# warm-up iterations), training shorter side from 480..800 (step 32, longer
# at most 1333), test 800; res5 + one extra norm as the RoI head; nothing
# frozen, SyncBN, no weight decay on norm layers; precise BN statistics
# before the evaluation. Reported as detectron2's VOC evaluator does: "AP"
# is the mean of the VOC07 11-point AP over IoU 0.50:0.05:0.95
# (`pascal_voc/mAP` here), with AP50 and AP75. As detectron2's VOC loader,
# training learns the objects marked "difficult" too (mmdet's VOCDataset
# would ignore them); the evaluation ignores them, as VOC's rule and both
# evaluators do. RPN: detectron2's anchors and matching (d2_protocol.py).
# From PixPro: backbone res2-4, and backbone.layer4 -> the RoI head's res5.
_base_ = [
    'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py',
    '../_base_/pixpro_transfer.py',
    '../_base_/d2_protocol.py',
]
# mmpixpro.datasets: mmpixpro.VOCDatasetWithDifficult (training).
custom_imports = dict(
    imports=[
        'mmpixpro.benchmarks',
        'mmpixpro.datasets',
        'mmpixpro.engine.safe_checkpoint_loading',
    ],
    allow_failed_imports=False,
)

model = dict(
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone={{_base_.pixpro_resnet}},
    roi_head=dict(shared_head={{_base_.pixpro_c4_shared_head}}),
    train_cfg=dict(rpn={{_base_.d2_rpn_train_cfg}}),
)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales={{_base_.voc_train_scales}},
        keep_ratio=True,
    ),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale={{_base_.d2_test_scale}}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
voc_trainval = dict(
    type='mmpixpro.VOCDatasetWithDifficult',
    data_root='data/VOCdevkit/',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline,
    backend_args=None,
)
train_dataloader = dict(
    batch_size={{_base_.d2_batch_per_gpu}},
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        ignore_keys=['dataset_type'],
        datasets=[
            dict(
                voc_trainval,
                ann_file='VOC2007/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2007/'),
            ),
            dict(
                voc_trainval,
                ann_file='VOC2012/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root='VOC2012/'),
            ),
        ],
    ),
)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='VOCMetric',
    metric='mAP',
    eval_mode='11points',
    iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
)
test_evaluator = val_evaluator

max_iters = 24000
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters,
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor={{_base_.d2_warmup_factor}},
        by_epoch=False,
        begin=0,
        end=100,
    ),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[18000, 22000],
        gamma=0.1,
    ),
]
optim_wrapper = {{_base_.d2_sgd}}
auto_scale_lr = {{_base_.d2_lr_base_batch}}
default_hooks = {{_base_.d2_iteration_hooks}}
log_processor = dict(by_epoch=False)

custom_hooks = [
    dict(type='mmpixpro.PretrainedTransferHook', rules={{_base_.c4_rules}}),
    {{_base_.d2_precise_bn}},
    {{_base_.d2_protocol_batch}},
    {{_base_.plain_checkpoint_hook}},
]
