# PixPro on P3-P6 of the FCOS FPN (Table 5, "+ FPN"): backbone and FPN load
# into mmdet's FCOS R50-FPN unconverted.
_base_ = [
    '_base_/models/pixpro_r50_fcos-fpn.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
