# Table 5 "+ instance": FPN + FCOS-head pre-training plus the SimCLR*
# instance branch on C5, alpha = 1.
_base_ = [
    'pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py',
    '_base_/models/instance_head.py',
]

model = dict(instance_head={{_base_.simclr_star_head}})
