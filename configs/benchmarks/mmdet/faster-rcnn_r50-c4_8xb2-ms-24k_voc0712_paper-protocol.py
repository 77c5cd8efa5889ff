# Faster R-CNN R50-C4 on VOC07+12 trainval, 24k iterations (batch 16),
# tested on VOC2007 test; res5 (+ one norm) as RoI shared head from PixPro.
_base_ = [
    'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py',
    '../_base_/pixpro_transfer.py',
]

model = {{_base_.pixpro_c4_model}}

max_iter = 24000
train_cfg = dict(max_iters=max_iter, val_interval=4000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iter,
        by_epoch=False,
        milestones=[18000, 22000],
        gamma=0.1,
    ),
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000))

custom_hooks = [dict(type='PretrainedTransferHook', rules={{_base_.c4_rules}})]
