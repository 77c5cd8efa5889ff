# PixPro (C5) + a BYOL-style instance branch (dense predictor, -2 cos),
# alpha = 1 (Eq. 6); the paper's tables use SimCLR* instead.
_base_ = ['pixpro_r50_c5_8xb128-coslr-100e_in1k.py', '_base_/models/instance_head.py']

model = dict(instance_head={{_base_.byol_instance_head}})
