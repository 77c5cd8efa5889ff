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
d2_precise_bn = dict(type='mmpixpro.PreciseBNBeforeEvalHook', num_samples=200 * 16)
# The lr is set for 16 images per iteration: a run on another total batch
# says so at start, with the fix (--auto-scale-lr, or the GPU count).
d2_lr_base_batch = dict(enable=False, base_batch_size=8 * d2_batch_per_gpu)
d2_protocol_batch = dict(type='mmpixpro.ProtocolBatchHook')
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

# RPN training (`model.train_cfg.rpn` of every detector): anchors that cross
# the image border are trained on (RPN.BOUNDARY_THRESH = -1; mmdet's C4 base
# drops them, allowed_border 0), and each ground-truth box's best anchors are
# positive at any IoU (the RPN matcher's allow_low_quality_matches; mmdet's
# assigner needs min_pos_iou 0, its bases have 0.3). IoU >= 0.7 positive,
# < 0.3 negative, 256 anchors half positive, as mmdet's bases.
d2_rpn_train_cfg = dict(
    allowed_border=-1,
    assigner=dict(match_low_quality=True, min_pos_iou=0.0),
)

# COCO Mask R-CNN (R50-FPN and R50-C4 alike): the pipelines and the 1x
# schedule, 90k iterations with lr x 0.1 at 60k and 80k. Mask targets as
# detectron2 makes them: each polygon cropped to its RoI and rasterised
# there (poly2mask=False keeps polygons: PolygonMasks.crop_and_resize),
# not rasterised at image size and resampled.
coco_mask_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
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
