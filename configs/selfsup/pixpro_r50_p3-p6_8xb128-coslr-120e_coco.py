# Table 6 "+ 120 ep COCO": continue P3-P6 PixPro pre-training of the Mask
# R-CNN FPN for 120 epochs on the COCO train2017 images, labels ignored (the
# paper's "downstream unlabelled data"; with unlabeled2017 too:
# ..._coco-with-unlabeled2017.py), from an ImageNet-stage checkpoint of
# pixpro_r50_p3-p6_8xb128-coslr-100e_in1k.py:
#   tools/dist_train.sh THIS_CONFIG 8 --cfg-options \
#       load_from=work_dirs/pixpro_r50_p3-p6_8xb128-coslr-100e_in1k/epoch_100.pth
# tau's schedule restarts for the new stage; the loaded target is kept.
_base_ = [
    '_base_/models/pixpro_r50_fpn.py',
    '_base_/datasets/coco_pixpro.py',
    '_base_/schedules/lars_coslr-120e.py',
    '_base_/default_runtime.py',
]

custom_hooks = [dict(type='MomentumRestartHook')]
# Required (MomentumRestartHook refuses to start without it): the
# ImageNet-stage checkpoint; set it here or with --cfg-options.
load_from = None
