# Table 2a: distance threshold T = 2.8 on C5 (7 x 7); default 0.7.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(pos_threshold=2.8))
