# FCOS R50-FPN (GN head) on COCO (Table 5), mmdet's own FCOS 1x recipe (12
# epochs, lr 0.01, steps at epochs 8 / 11) with only PixPro's backbone
# settings changed (pytorch style, RGB mean / std of pre-training, SyncBN,
# nothing frozen): the authors' release has no FCOS transfer config.
# From PixPro: the backbone; the FPN and the towers' first three convs when
# the checkpoint has them (configs/selfsup/pixpro_r50_fcos-fpn_*.py: FPN;
# pixpro_r50_fcos-fpn-head_*.py: FPN + towers). The detector's fourth tower
# conv (bbox_head.{cls,reg}_convs.3), conv_cls / conv_reg / conv_centerness
# and scales start fresh; the transfer report lists them.
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
        type='mmpixpro.PretrainedTransferHook',
        rules=[
            {{_base_.backbone_rule}},
            {{_base_.neck_rule}},
            dict(model='bbox_head.', checkpoint='bbox_head.'),
        ],
        fresh=[
            r'^bbox_head\.(cls|reg)_convs\.3\.',
            r'^bbox_head\.(conv_cls|conv_reg|conv_centerness|scales)\.',
        ],
    ),
    {{_base_.plain_checkpoint_hook}},
]
