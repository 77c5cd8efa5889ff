# Mask R-CNN R50-C4, COCO 1x: res2-4 in the backbone, res5 (+ one norm) as
# the RoI shared head; both from PixPro (backbone.layer4 -> shared head).
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py',
    '../_base_/pixpro_transfer.py',
]

model = {{_base_.pixpro_c4_model}}

custom_hooks = [dict(type='PretrainedTransferHook', rules={{_base_.c4_rules}})]
