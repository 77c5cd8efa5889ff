# Mask R-CNN Swin-T FPN 1x on COCO: mmdet's own config
# (swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py) with only the transfer hook
# added and the backbone's download dropped; its recipe, its Swin-T as it
# builds it. From the checkpoint given as load_from: backbone.*, and neck.*
# when it was pre-trained on the FPN (configs/selfsup/pixpro_swin-t_p3-p6_*),
# unconverted; an ImageNet-supervised Swin-T release (the Swin Transformer
# release layout, renamed as convert_weights=True does) loads through the same
# hook.
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    '../_base_/transfer_rules.py',
]

custom_imports = dict(
    imports=['mmpixpro.benchmarks', 'mmpixpro.engine.safe_checkpoint_loading'],
    allow_failed_imports=False,
)
# nothing downloaded: the hook loads load_from (a supervised release too)
pretrained = None
model = dict(backbone=dict(init_cfg=None))
custom_hooks = [
    dict(
        type='mmpixpro.PretrainedTransferHook',
        rules=[{{_base_.backbone_rule}}, {{_base_.neck_rule}}],
    ),
    {{_base_.plain_checkpoint_hook}},
]
