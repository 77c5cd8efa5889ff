# Table 4: PixPro (C5) + the SimCLR* instance branch, alpha = 1 (Eq. 6).
_base_ = ['pixpro_r50_c5_8xb128-coslr-100e_in1k.py', '_base_/models/instance_head.py']

model = dict(instance_head={{_base_.simclr_star_head}})
