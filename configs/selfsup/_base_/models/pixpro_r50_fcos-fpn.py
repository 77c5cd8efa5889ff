# PixPro on FPN levels (mmdet's FPN of FCOS); the pixel loss on P3-P6 by
# default, P7 dropped. The PPM and projector are shared by all levels.
_base_ = ['pixpro_r50_c5.py', '../../../_base_/fcos_fpn_head.py']

model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck={{_base_.fcos_neck}},
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
# Levels without a loss (P7, and others for single-level outputs) leave
# some FPN convolutions without gradient.
find_unused_parameters = True
