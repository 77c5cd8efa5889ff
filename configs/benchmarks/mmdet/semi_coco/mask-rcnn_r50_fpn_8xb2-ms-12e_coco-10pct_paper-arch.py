# Semi-supervised COCO (Table 6): Mask R-CNN R50-FPN fine-tuned on a 10 %
# labelled fold of train2017 (tools/misc/split_coco.py), the paper's Mask
# R-CNN FPN network, data and optimiser (../mask-rcnn_r50_fpn_8xb2-ms-90k_
# coco_paper-protocol.py: SyncBN everywhere, 4conv1fc box head, multi-scale
# training, no weight decay on norms, precise BN before evaluation). The
# schedule is this project's choice, the paper's is not in its sources:
# 12 epochs over the subset (so the iterations scale with its size), lr x 0.1
# after epochs 8 and 11, linear warm-up over the first epoch, one evaluation
# at the end.
# From PixPro: the backbone, and the FPN when the checkpoint has Mask R-CNN's
# (Table 6 "FPN" and "+ 120 ep COCO": configs/selfsup/pixpro_r50_p3-p6_*).
# The fold runner (tools/benchmarks/semi_coco.py) sets the fold's file.
_base_ = '../mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py'

percent = 10
fold = 1
train_dataloader = dict(
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file=f'semi_anns/instances_train2017.{fold}@{percent}.json'),
)

max_epochs = 12
train_cfg = dict(
    _delete_=True,
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=max_epochs,
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True,
    ),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[8, 11],
        gamma=0.1,
    ),
]
default_hooks = dict(
    checkpoint=dict(by_epoch=True, interval=4),
    logger=dict(log_metric_by_epoch=True),
)
log_processor = dict(by_epoch=True)
