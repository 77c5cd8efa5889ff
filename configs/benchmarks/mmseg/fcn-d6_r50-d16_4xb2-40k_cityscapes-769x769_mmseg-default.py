# Cityscapes semantic segmentation (Table 1 "Cityscapes"), the paper's
# network: "a ResNet-50 backbone with 3x3 convolution layers in the conv5
# stage of dilation 2 and stride 1, followed by two 3x3 convolution layers of
# 256 channels and dilation 6. The classification is obtained by an
# additional 1x1 convolutional layer." That is mmseg's FCN-D6 (output stride
# 16) with its head narrowed from 512 to 256 channels, without concatenating
# the backbone's output before the classifier and without the auxiliary
# head; SyncBN, nothing frozen.
# Trained with mmseg's recipe for this model (40k iterations of 8 crops of
# 769 x 769, SGD lr 0.01 with poly decay, weight decay 5e-4, photometric
# distortion, sliding-window test), hence "mmseg-default". The paper's
# protocol (MoCo's settings) is
# fcn-d6_r50-d16_8xb2-90k_cityscapes-769x769_paper-protocol.py, which takes
# its network from here.
# From PixPro: the backbone (a plain ResNet-50, not mmseg's deep-stem
# ResNetV1c whose stem has other tensors; no `pretrained` URL).
_base_ = [
    'mmseg::fcn/fcn-d6_r50-d16_4xb2-40k_cityscapes-769x769.py',
    '../_base_/pixpro_transfer.py',
]

model = dict(
    pretrained=None,
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone=dict(
        type='ResNet',
        norm_cfg={{_base_.pixpro_norm_cfg}},
        norm_eval=False,
        # every conv5 block dilated by 2 (mmseg's base halves the first's)
        contract_dilation=False,
        init_cfg=None,
    ),
    decode_head=dict(
        channels=256,
        num_convs=2,
        dilation=6,
        concat_input=False,
        norm_cfg={{_base_.pixpro_norm_cfg}},
    ),
    auxiliary_head=None,
)

custom_hooks = [
    dict(type='mmpixpro.PretrainedTransferHook', rules=[{{_base_.backbone_rule}}]),
    {{_base_.plain_checkpoint_hook}},
]
