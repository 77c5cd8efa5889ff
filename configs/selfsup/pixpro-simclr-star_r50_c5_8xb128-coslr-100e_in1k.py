# PixPro (C5) + the SimCLR* instance branch (contrastive, momentum encoder).
_base_ = 'pixpro-inst-byol_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(instance_head=dict(loss_type='simclr', temperature=0.2))
