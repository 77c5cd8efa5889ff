# Continue FPN + head PixPro pre-training on unlabelled COCO images (Table 6,
# "+120 ep COCO"): start from an ImageNet-stage checkpoint of ours, e.g.
#   tools/dist_train.sh THIS_CONFIG 8 \
#       --cfg-options load_from=work_dirs/in1k/epoch_100.pth
# Images of train2017 and unlabeled2017 are used as a plain image folder
# (labels ignored); tau's schedule restarts for the new stage.
_base_ = 'pixpro_r50_fpn_head.py'

coco_root = 'data/coco/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='ImageFolder',
                data_root=coco_root + 'train2017',
                pipeline={{_base_.train_pipeline}},
            ),
            dict(
                type='ImageFolder',
                data_root=coco_root + 'unlabeled2017',
                pipeline={{_base_.train_pipeline}},
            ),
        ],
    )
)

max_epochs = 120
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 5,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='MomentumRestartHook')]
# Required (MomentumRestartHook refuses to start without it): the
# ImageNet-stage checkpoint; set it here or with --cfg-options.
load_from = None
