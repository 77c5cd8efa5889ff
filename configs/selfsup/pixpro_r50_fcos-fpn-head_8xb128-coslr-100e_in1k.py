# PixPro pre-training of backbone + FPN + FCOS head towers (Sec. 3.3,
# Table 5 "+ head"): the checkpoint's backbone.*, neck.* and the first three
# convs of bbox_head.{cls,reg}_convs.* load into mmdet's FCOS R50-FPN (GN
# head) unconverted; the fourth tower conv and the predictions start fresh.
_base_ = [
    '_base_/models/pixpro_r50_fcos-fpn-head.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
