# PixPro on P3-P6 of the Mask R-CNN FPN (Table 2e "P3-P6"; Table 1's COCO
# R50-FPN number; Table 6 "FPN"). backbone.* and neck.* load into Mask R-CNN
# R50-FPN unconverted.
_base_ = [
    '_base_/models/pixpro_r50_fpn.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
