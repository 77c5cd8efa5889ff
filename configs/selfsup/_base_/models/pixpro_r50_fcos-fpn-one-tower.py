# PixPro on the FCOS FPN + one FCOS head tower (GN, shared over levels) of
# three 3x3 convolutions: the other reading of Table 5 "+ head" ("a head
# network of three successive convolutional layers"), beside
# pixpro_r50_fcos-fpn-head.py (both towers, concatenated). The projector sees
# the tower's 256 channels. At fine-tuning the tower initialises both FCOS
# towers (fcos_r50_fpn_gn-head-one-tower_1x_coco_mmdet-default.py).
_base_ = 'pixpro_r50_fcos-fpn.py'

# The tower arguments of configs/_base_/fcos_fpn_head.py (a test checks
# they are equal), one tower of three convs.
model = dict(
    bbox_head=dict(
        type='FCOSHeadTower',
        in_channels=256,
        feat_channels=256,
        stacked_convs=3,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
    ),
    projector=dict(in_channels=256),
)
