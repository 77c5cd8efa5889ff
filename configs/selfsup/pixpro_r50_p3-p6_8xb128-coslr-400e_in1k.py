# PixPro on P3-P6 of the Mask R-CNN FPN, 400 epochs (Table 1, COCO R50-FPN
# 41.4). backbone.* and neck.* load into Mask R-CNN R50-FPN unconverted.
_base_ = [
    '_base_/models/pixpro_r50_fpn.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-400e.py',
    '_base_/default_runtime.py',
]
