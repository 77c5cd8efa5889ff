# Cityscapes semantic segmentation (Table 1 "Cityscapes"), the paper's
# protocol: its network (FCN-D6 narrowed to the paper's head, see the base)
# trained as the paper says, "following the settings of MoCo" (MoCo's
# appendix): Cityscapes train fine (2975 images) -> val; 90k iterations of
# 16 images (8 GPUs x 2), SGD lr 0.01, x 0.1 at 70 % and 90 % of training
# (63k / 81k), weight decay 1e-4; random scaling by 0.5..2, 769 x 769 crops
# (padded with the ignore label where the scaled image is smaller),
# horizontal flipping, nothing else; inference on the whole image at its
# own size. MoCo's appendix gives no momentum, warm-up or norm-layer decay:
# detectron2's defaults, as for the detectors (_base_/d2_protocol.py):
# momentum 0.9, a linear warm-up over 1000 iterations from lr / 1000, no
# weight decay on norm layers.
# From PixPro: the backbone.
_base_ = [
    'fcn-d6_r50-d16_4xb2-40k_cityscapes-769x769_mmseg-default.py',
    '../_base_/d2_protocol.py',
]

crop_size = (769, 769)  # the data preprocessor pads each crop to it
model = dict(
    data_preprocessor=dict(size=crop_size),
    test_cfg=dict(_delete_=True, mode='whole'),
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # 2048 x 1024 is Cityscapes' image size: a scale of 0.5..2 of the image
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True,
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size={{_base_.d2_batch_per_gpu}},
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0),
)

max_iters = 90000
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters,
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor={{_base_.d2_warmup_factor}},
        by_epoch=False,
        begin=0,
        end={{_base_.d2_warmup_iters}},
    ),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[63000, 81000],  # 70 % and 90 % of max_iters
        gamma=0.1,
    ),
]
default_hooks = {{_base_.d2_iteration_hooks}}
auto_scale_lr = {{_base_.d2_lr_base_batch}}
custom_hooks = [
    dict(type='mmpixpro.PretrainedTransferHook', rules=[{{_base_.backbone_rule}}]),
    {{_base_.d2_protocol_batch}},
    {{_base_.plain_checkpoint_hook}},
]
