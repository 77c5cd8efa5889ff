# PixContrast with the PPM on the online branch (Table 3).
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(loss=dict(type='PixContrastLoss', temperature=0.3)))
