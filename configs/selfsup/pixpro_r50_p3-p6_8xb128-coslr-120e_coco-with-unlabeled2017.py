# Table 6 "+ 120 ep COCO" with the named option of more data: the COCO stage
# of pixpro_r50_p3-p6_8xb128-coslr-120e_coco.py on train2017 + unlabeled2017
# images (about twice the iterations of the 120 epochs). Started the same
# way, from the ImageNet-stage checkpoint:
#   tools/dist_train.sh THIS_CONFIG 8 --cfg-options \
#       load_from=work_dirs/pixpro_r50_p3-p6_8xb128-coslr-100e_in1k/epoch_100.pth
_base_ = [
    '_base_/models/pixpro_r50_fpn.py',
    '_base_/datasets/coco-with-unlabeled2017_pixpro.py',
    '_base_/schedules/lars_coslr-120e.py',
    '_base_/default_runtime.py',
]

custom_hooks = [dict(type='MomentumRestartHook')]
# Required (MomentumRestartHook refuses to start without it): the
# ImageNet-stage checkpoint; set it here or with --cfg-options.
load_from = None
