# The former name of pixpro_r50_fcos-fpn-head_8xb128-coslr-120e_coco.py
# (its 120-epoch COCO continuation), kept working.
_base_ = 'pixpro_r50_fcos-fpn-head_8xb128-coslr-120e_coco.py'
