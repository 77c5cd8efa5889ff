# ImageNet linear evaluation: frozen PixPro backbone, a linear classifier
# (SGD lr 30, 100 epochs, step decay), mmpretrain's recipe.
_base_ = [
    'mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py',
    '../_base_/pixpro_transfer.py',
]

model = dict(
    data_preprocessor=dict(
        mean={{_base_.pixpro_mean}}, std={{_base_.pixpro_std}}, to_rgb=True
    ),
    backbone=dict(frozen_stages=4, norm_eval=True, init_cfg=None),
)

custom_hooks = [dict(type='PretrainedTransferHook', rules=[{{_base_.backbone_rule}}])]
