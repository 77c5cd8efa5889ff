# Table 2d: l = 2 layers in the PPM's value transform g; default 1.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(ppm=dict(num_layers=2)))
