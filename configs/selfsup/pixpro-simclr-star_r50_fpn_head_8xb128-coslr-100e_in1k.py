# FPN + head pre-training plus the instance branch on C5 (Table 5, last row).
_base_ = ['pixpro_r50_fpn_head.py', '_base_/models/instance_head.py']

model = dict(instance_head={{_base_.instance_head}})
