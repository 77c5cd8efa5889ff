# Mask R-CNN R50-C4 on COCO, the paper's protocol (Table 1 "COCO R50-C4"):
# the authors' COCO_R_50_C4_1x.yaml (Base-RCNN-C4-BN.yaml) on detectron2's
# defaults. res2-4 in the backbone, res5 + one extra norm as the RoI head;
# 90k iterations of 16 images, lr 0.02 (steps at 60k / 80k, 1000 warm-up
# iterations), training shorter side from 640..800 (step 32, longer at most
# 1333), test 800; nothing frozen, SyncBN, no weight decay on norm layers;
# RPN 12000 / 2000 proposals before / after NMS in training, 6000 / 1000 at
# test; precise BN statistics before the evaluation.
# From PixPro: backbone res2-4, and backbone.layer4 -> the RoI head's res5.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py',
    '../_base_/pixpro_transfer.py',
    '../_base_/d2_protocol.py',
]

model = {{_base_.pixpro_c4_model}}

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales={{_base_.coco_train_scales}},
        keep_ratio=True,
    ),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale={{_base_.d2_test_scale}}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    batch_size={{_base_.d2_batch_per_gpu}},
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 90000
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
        end={{_base_.d2_warmup_iters}},
    ),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[60000, 80000],
        gamma=0.1,
    ),
]
optim_wrapper = {{_base_.d2_sgd}}
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval={{_base_.d2_checkpoint_interval}}),
    logger=dict(log_metric_by_epoch=False),
)
log_processor = dict(by_epoch=False)

custom_hooks = [
    dict(type='PretrainedTransferHook', rules={{_base_.c4_rules}}),
    {{_base_.d2_precise_bn}},
]
