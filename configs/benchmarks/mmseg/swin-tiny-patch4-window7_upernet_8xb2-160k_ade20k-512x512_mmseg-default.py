# UperNet Swin-T on ADE20K, 160k iterations of 512 x 512 crops: mmseg's own
# config
# (swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py)
# with only the transfer hook added and the backbone's download dropped; its
# recipe, its Swin-T as it builds it. From the checkpoint given as load_from:
# backbone.*, unconverted; an ImageNet-supervised Swin-T release (the Swin
# Transformer release layout, renamed as mmdet's convert_weights=True does)
# loads through the same hook.
_base_ = [
    'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py',
    '../_base_/transfer_rules.py',
]

custom_imports = dict(
    imports=['mmpixpro.benchmarks', 'mmpixpro.engine.safe_checkpoint_loading'],
    allow_failed_imports=False,
)
# nothing downloaded: the hook loads load_from (a supervised release too)
checkpoint_file = None
model = dict(backbone=dict(init_cfg=None))
custom_hooks = [
    dict(type='mmpixpro.PretrainedTransferHook', rules=[{{_base_.backbone_rule}}]),
    {{_base_.plain_checkpoint_hook}},
]
