# Mask R-CNN R50-FPN, COCO 1x, backbone from PixPro.
# (An FPN pre-trained for FCOS has other levels than this FPN: neck starts
# fresh here.)
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/pixpro_transfer.py',
]

model = dict(
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone={{_base_.pixpro_resnet}},
)

custom_hooks = [dict(type='PretrainedTransferHook', rules=[{{_base_.backbone_rule}}])]
