# PixPro on the P3-P6 outputs of an FPN (Table 2e), loss averaged per level
# then over levels.
_base_ = [
    '_base_/models/pixpro_r50_fpn.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
