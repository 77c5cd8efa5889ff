# Table 2c: sharpness exponent gamma = 1.0 of the PPM similarity; default 2.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(ppm=dict(gamma=1.0)))
