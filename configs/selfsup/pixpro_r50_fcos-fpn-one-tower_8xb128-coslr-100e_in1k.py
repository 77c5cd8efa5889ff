# PixPro pre-training of backbone + FPN + one FCOS head tower of three convs
# (Sec. 3.3, Table 5 "+ head", read as one "head network of three successive
# convolutional layers"; pixpro_r50_fcos-fpn-head_* is the two-tower
# reading). Fine-tune with
# configs/benchmarks/mmdet/fcos_r50_fpn_gn-head-one-tower_1x_coco_mmdet-default.py:
# the tower's bbox_head.convs.* initialise the first three convs of both
# bbox_head.cls_convs and bbox_head.reg_convs.
_base_ = [
    '_base_/models/pixpro_r50_fcos-fpn-one-tower.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
