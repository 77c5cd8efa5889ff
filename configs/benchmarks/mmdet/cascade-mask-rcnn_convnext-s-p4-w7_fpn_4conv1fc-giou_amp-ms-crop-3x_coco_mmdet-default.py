# Cascade Mask R-CNN ConvNeXt-S FPN 3x (mmdet has no Mask R-CNN for it) on
# COCO: mmdet's own config
# (convnext/cascade-mask-rcnn_convnext-s-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py)
# with only the transfer hook added and the backbone's download dropped; its
# recipe, its ConvNeXt-S as it builds it. From the checkpoint given as
# load_from: backbone.*, and neck.* when it was pre-trained on the FPN
# (configs/selfsup/pixpro_convnext-s_p3-p6_*), unconverted; an
# ImageNet-supervised ConvNeXt-S release (an mmpretrain classifier,
# backbone.*) loads through the same hook.
_base_ = [
    'mmdet::convnext/cascade-mask-rcnn_convnext-s-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',
    '../_base_/transfer_rules.py',
]

custom_imports = dict(
    imports=[
        'mmpretrain.models',
        'mmpixpro.benchmarks',
        'mmpixpro.engine.safe_checkpoint_loading',
    ],
    allow_failed_imports=False,
)
# nothing downloaded: the hook loads load_from (a supervised release too)
checkpoint_file = None
model = dict(backbone=dict(init_cfg=None))
custom_hooks = [
    dict(
        type='mmpixpro.PretrainedTransferHook',
        rules=[{{_base_.backbone_rule}}, {{_base_.neck_rule}}],
    ),
    {{_base_.plain_checkpoint_hook}},
]
