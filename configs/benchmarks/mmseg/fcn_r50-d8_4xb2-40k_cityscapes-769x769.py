# FCN R50-D8 on Cityscapes (769x769 crops, 40k iterations), backbone from
# PixPro: a plain ResNet-50 with dilated res4 / res5 (not mmseg's deep-stem
# ResNetV1c, whose stem has other tensors), no `pretrained` URL.
_base_ = [
    'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py',
    '../_base_/pixpro_transfer.py',
]

model = dict(
    pretrained=None,
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone=dict(type='ResNet', norm_cfg={{_base_.pixpro_norm_cfg}}, init_cfg=None),
)

custom_hooks = [dict(type='PretrainedTransferHook', rules=[{{_base_.backbone_rule}}])]
