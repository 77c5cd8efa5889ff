# PixContrast (Eq. 2): pixel InfoNCE, tau = 0.3, no PPM (Table 3).
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(head=dict(ppm=None, loss=dict(type='PixContrastLoss', temperature=0.3)))
