# PixPro pre-training of backbone + FPN + FCOS head towers (Sec. 3.3,
# Table 5): the checkpoint's backbone.*, neck.* and bbox_head.{cls,reg}_convs.*
# load into mmdet's FCOS R50-FPN (GN head) with `load_from`, unconverted.
_base_ = [
    '_base_/models/pixpro_r50_fpn_head.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]

model = dict(bbox_head=dict(type='FCOSTowers'))
