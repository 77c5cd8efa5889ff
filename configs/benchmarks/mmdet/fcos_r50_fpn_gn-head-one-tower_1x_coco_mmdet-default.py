# FCOS R50-FPN (GN head) on COCO (Table 5 "+ head"), the recipe of
# fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py (its base; mmdet's FCOS 1x),
# for the one-tower reading of the paper's head pre-training
# (configs/selfsup/pixpro_r50_fcos-fpn-one-tower_*.py: "a head network of
# three successive convolutional layers"). From PixPro: the backbone, the
# FPN, and the pre-trained tower's three convs (bbox_head.convs.0-2) into
# both the classification and the regression tower (bbox_head.cls_convs.0-2
# and bbox_head.reg_convs.0-2). The towers' fourth conv and the prediction
# layers start fresh. A checkpoint without the tower (C5, FPN, or the
# two-tower pre-training) stops the run: fine-tune those with the base.
_base_ = 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py'

custom_hooks = [
    dict(
        type='mmpixpro.PretrainedTransferHook',
        rules=[
            {{_base_.backbone_rule}},
            {{_base_.neck_rule}},
            dict(
                model='bbox_head.cls_convs.',
                checkpoint='bbox_head.convs.',
                required=True,
            ),
            dict(
                model='bbox_head.reg_convs.',
                checkpoint='bbox_head.convs.',
                required=True,
            ),
        ],
        fresh=[r'^bbox_head\.(cls|reg)_convs\.3\.'],
    ),
    {{_base_.plain_checkpoint_hook}},
]
