# ImageNet linear evaluation (Table 4's top-1), MoCo's protocol as in the
# paper: the PixPro backbone frozen (BN statistics too), a linear classifier
# on its pooled C5 trained with SGD lr 30, momentum 0.9, no weight decay,
# batch 256 (8 x 32), 100 epochs, lr x 0.1 at epochs 60 and 80;
# RandomResizedCrop 224 + flip; test: shorter side 256, centre crop 224.
# mmpretrain's MoCo v2 linear config is this recipe; only the backbone's
# initialisation changes (the hook, not `init_cfg`).
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

custom_hooks = [
    dict(type='mmpixpro.PretrainedTransferHook', rules=[{{_base_.backbone_rule}}]),
    {{_base_.plain_checkpoint_hook}},
]
