# Continue FPN + FCOS-head PixPro pre-training on the COCO train2017 images
# (labels ignored) for 120 epochs, from an ImageNet-stage checkpoint of
# pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py, e.g.
#   tools/dist_train.sh THIS_CONFIG 8 --cfg-options load_from=work_dirs/\
#       pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k/epoch_100.pth
# tau's schedule restarts for the new stage; the loaded target is kept.
_base_ = [
    '_base_/models/pixpro_r50_fcos-fpn-head.py',
    '_base_/datasets/coco_pixpro.py',
    '_base_/schedules/lars_coslr-120e.py',
    '_base_/default_runtime.py',
]

custom_hooks = [dict(type='MomentumRestartHook')]
# Required (MomentumRestartHook refuses to start without it): the
# ImageNet-stage checkpoint; set it here or with --cfg-options.
load_from = None
