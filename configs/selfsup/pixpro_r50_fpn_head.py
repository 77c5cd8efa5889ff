# The former name of pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py
# (FPN + FCOS-head pre-training, Table 5 "+ head"), kept working.
_base_ = 'pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py'
