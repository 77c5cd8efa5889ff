# UperNet ConvNeXt-T (AMP) on ADE20K, 160k iterations of 512 x 512 crops:
# mmseg's own config
# (convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py) with only
# the transfer hook added and the backbone's download dropped; its recipe, its
# ConvNeXt-T as it builds it. From the checkpoint given as load_from:
# backbone.*, unconverted; an ImageNet-supervised ConvNeXt-T release (an
# mmpretrain classifier, backbone.*) loads through the same hook.
_base_ = [
    'mmseg::convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py',
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
    dict(type='mmpixpro.PretrainedTransferHook', rules=[{{_base_.backbone_rule}}]),
    {{_base_.plain_checkpoint_hook}},
]
