# Table 2b: distance threshold T = 2.8 on P3 (28 x 28); T = 0.7 is
# pixpro_r50_p3_8xb128-coslr-100e_in1k.py.
_base_ = 'pixpro_r50_p3_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(pos_threshold=2.8))
