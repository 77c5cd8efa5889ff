# PPM ablation (Table 2a): positive-pair threshold T = 0.5 (default 0.7).
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(pos_threshold=0.5))
