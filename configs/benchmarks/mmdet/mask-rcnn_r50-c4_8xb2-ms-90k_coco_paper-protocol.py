# Mask R-CNN R50-C4 on COCO, the paper's protocol (Table 1 "COCO R50-C4"):
# the authors' COCO_R_50_C4_1x.yaml (Base-RCNN-C4-BN.yaml) on detectron2's
# defaults. res2-4 in the backbone, res5 + one extra norm as the RoI head;
# 90k iterations of 16 images, lr 0.02 (steps at 60k / 80k, 1000 warm-up
# iterations), training shorter side from 640..800 (step 32, longer at most
# 1333), test 800; nothing frozen, SyncBN, no weight decay on norm layers;
# RPN 12000 / 2000 proposals before / after NMS in training, 6000 / 1000 at
# test; RPN trained on anchors across the image border too, each box's best
# anchors positive at any IoU; mask targets from polygons cropped to each
# RoI; precise BN statistics before the evaluation (detectron2 0.2.1's
# defaults: _base_/d2_protocol.py).
# From PixPro: backbone res2-4, and backbone.layer4 -> the RoI head's res5.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py',
    '../_base_/pixpro_transfer.py',
    '../_base_/d2_protocol.py',
]

model = dict(
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone={{_base_.pixpro_resnet}},
    roi_head=dict(shared_head={{_base_.pixpro_c4_shared_head}}),
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
    dict(type='mmpixpro.PretrainedTransferHook', rules={{_base_.c4_rules}}),
    {{_base_.d2_precise_bn}},
    {{_base_.d2_protocol_batch}},
    {{_base_.plain_checkpoint_hook}},
]
