# PixPro on the FPN of FCOS R50-FPN (C3..C5 -> P3..P7), the pixel loss on
# P3-P6 (P7 dropped; Sec. 3.3, Table 5). One projector and one PPM serve
# every level; loss averaged per level, then over levels.
_base_ = ['pixpro_r50_c5.py', '../../../_base_/fcos_fpn_head.py']

model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck={{_base_.fcos_neck}},
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
# P7 gets no loss: its extra convolution has no gradient.
find_unused_parameters = True
