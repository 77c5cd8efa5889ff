# Table 4: SimCLR* alone, "a variant of SimCLR with the same encoders as our
# pixel-level approach": the instance branch with a momentum key encoder and
# no pixel branch.
_base_ = ['pixpro_r50_c5_8xb128-coslr-100e_in1k.py', '_base_/models/instance_head.py']

model = dict(projector=None, head=None, instance_head={{_base_.simclr_star_head}})
