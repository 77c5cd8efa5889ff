# Mask R-CNN R50-FPN on COCO, the paper's protocol (Table 1 "COCO R50-FPN",
# Table 2 COCO mAP): the authors' COCO_R_50_FPN_1x.yaml on detectron2's
# defaults. 90k iterations of 16 images, lr 0.02 (steps at 60k / 80k, 1000
# warm-up iterations), training shorter side from 640..800 (step 32, longer
# at most 1333), test 800; nothing frozen; SyncBN in the backbone, the FPN,
# the box head (4 convs + 1 fc) and the mask head; no weight decay on norm
# layers; each box's best anchors positive for the RPN at any IoU, anchors
# across the border trained on; mask targets from polygons cropped to each
# RoI; precise BN statistics before the evaluation (detectron2 0.2.1's
# defaults: _base_/d2_protocol.py).
# From PixPro: the backbone, and the FPN when the checkpoint has Mask R-CNN's
# (configs/selfsup/pixpro_r50_p3-p6_*.py); a C5 checkpoint leaves the FPN
# fresh, an FCOS FPN does not fit and stops the run.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/pixpro_transfer.py',
    '../_base_/d2_protocol.py',
    '../../_base_/mask_rcnn_fpn.py',
]

norm_cfg = {{_base_.pixpro_norm_cfg}}
model = dict(
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone={{_base_.pixpro_resnet}},
    neck={{_base_.mask_rcnn_neck}},
    roi_head=dict(
        # FastRCNNConvFCHead: NUM_CONV 4, NUM_FC 1, NORM SyncBN
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg
        ),
        # MaskRCNNConvUpsampleHead: 4 convs, NORM SyncBN
        mask_head=dict(norm_cfg=norm_cfg),
    ),
    train_cfg=dict(rpn={{_base_.d2_rpn_train_cfg}}),
)

train_pipeline = {{_base_.coco_mask_train_pipeline}}
test_pipeline = {{_base_.coco_mask_test_pipeline}}
train_dataloader = dict(
    batch_size={{_base_.d2_batch_per_gpu}},
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

train_cfg = {{_base_.coco_1x_train_cfg}}
param_scheduler = {{_base_.coco_1x_param_scheduler}}
optim_wrapper = {{_base_.d2_sgd}}
auto_scale_lr = {{_base_.d2_lr_base_batch}}
default_hooks = {{_base_.d2_iteration_hooks}}
log_processor = dict(by_epoch=False)

custom_hooks = [
    dict(
        type='mmpixpro.PretrainedTransferHook',
        rules=[{{_base_.backbone_rule}}, {{_base_.neck_rule}}],
    ),
    {{_base_.d2_precise_bn}},
    {{_base_.d2_protocol_batch}},
    {{_base_.plain_checkpoint_hook}},
]
