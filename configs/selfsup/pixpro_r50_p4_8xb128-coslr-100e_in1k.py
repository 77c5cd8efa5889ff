# PixPro on the P4 output of an FPN only (Table 2e).
_base_ = 'pixpro_r50_p3-p6_8xb128-coslr-100e_in1k.py'

model = dict(out_levels=('P4',))
