# FCOS R50-FPN (GN head), COCO 1x, initialised from PixPro: backbone, and the
# FPN and head towers when the checkpoint has them (pixpro_r50_fpn_head.py);
# only conv_cls / conv_reg / conv_centerness / scales start fresh then.
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../_base_/pixpro_transfer.py',
    '../../_base_/fcos_fpn_head.py',
]

model = dict(
    data_preprocessor={{_base_.pixpro_preprocessor}},
    backbone={{_base_.pixpro_resnet}},
    neck={{_base_.fcos_neck}},
    bbox_head={{_base_.fcos_towers}},
)

custom_hooks = [
    dict(
        type='PretrainedTransferHook',
        rules=[
            {{_base_.backbone_rule}},
            dict(model='neck.', checkpoint='neck.'),
            dict(model='bbox_head.', checkpoint='bbox_head.'),
        ],
        fresh=[r'^bbox_head\.(conv_cls|conv_reg|conv_centerness|scales)\.'],
    )
]
