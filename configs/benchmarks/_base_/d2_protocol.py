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
coco_train_scales = [
    (1333, 640),
    (1333, 672),
    (1333, 704),
    (1333, 736),
    (1333, 768),
    (1333, 800),
]
voc_train_scales = [
    (1333, 480),
    (1333, 512),
    (1333, 544),
    (1333, 576),
    (1333, 608),
    (1333, 640),
    (1333, 672),
    (1333, 704),
    (1333, 736),
    (1333, 768),
    (1333, 800),
]
d2_test_scale = (1333, 800)
# Checkpoints every 5000 iterations (SOLVER.CHECKPOINT_PERIOD); evaluation
# once, after the last iteration (TEST.EVAL_PERIOD = 0).
d2_checkpoint_interval = 5000
