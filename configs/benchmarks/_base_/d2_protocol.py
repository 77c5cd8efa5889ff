# The detectron2 protocol behind the paper's detection numbers: the authors'
# transfer configs (transfer/detection/configs/*.yaml of their release) on
# top of detectron2's defaults, as in MoCo's detection transfer. Shared by
# the `*_paper-protocol.py` detection benchmarks (a test checks each value).

# SGD, 16 images per iteration (8 GPUs x 2), lr 0.02, momentum 0.9, weight
# decay 1e-4 except on norm layers (SOLVER.WEIGHT_DECAY_NORM = 0).
d2_batch_per_gpu = 2
d2_sgd = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0),
)
# Linear warm-up from lr / 1000 (SOLVER.WARMUP_FACTOR); 1000 iterations
# (SOLVER.WARMUP_ITERS) unless a config says otherwise (VOC: 100).
d2_warmup_factor = 0.001
d2_warmup_iters = 1000
# TEST.PRECISE_BN: BN statistics from 200 iterations of the 16-image batch,
# right before evaluation (and at the end of training).
d2_precise_bn = dict(type='PreciseBNBeforeEvalHook', num_samples=200 * 16)
# Training: shorter side drawn from these (INPUT.MIN_SIZE_TRAIN, "choice"),
# longer side at most 1333 (INPUT.MAX_SIZE_TRAIN), horizontal flip.
# Test: shorter side 800, longer at most 1333.
coco_train_scales = [(1333, side) for side in range(640, 801, 32)]
voc_train_scales = [(1333, side) for side in range(480, 801, 32)]
d2_test_scale = (1333, 800)
# Checkpoints every 5000 iterations (SOLVER.CHECKPOINT_PERIOD); evaluation
# once, after the last iteration (TEST.EVAL_PERIOD = 0).
d2_checkpoint_interval = 5000
# Iteration-based runs: checkpoints and logs counted in iterations.
d2_iteration_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=d2_checkpoint_interval),
    logger=dict(log_metric_by_epoch=False),
)

# COCO Mask R-CNN (R50-FPN and R50-C4 alike): the pipelines and the 1x
# schedule, 90k iterations with lr x 0.1 at 60k and 80k.
coco_mask_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=coco_train_scales, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
coco_mask_test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=d2_test_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
coco_1x_iters = 90000
coco_1x_train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=coco_1x_iters,
    val_interval=coco_1x_iters,
)
coco_1x_param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=d2_warmup_factor,
        by_epoch=False,
        begin=0,
        end=d2_warmup_iters,
    ),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=coco_1x_iters,
        milestones=[60000, 80000],
        gamma=0.1,
    ),
]
