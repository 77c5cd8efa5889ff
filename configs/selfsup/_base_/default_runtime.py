# Runtime shared by every pre-training config.
default_scope = 'mmpixpro'
# mmengine reads every checkpoint (load_from, a Pretrained init_cfg, --resume)
# with mmpixpro's reader: weights_only=True, URLs downloaded first, the tensor
# digest checked, one-line refusals (importing mmpixpro alone changes nothing).
custom_imports = dict(
    imports=['mmpixpro.engine.safe_checkpoint_loading'], allow_failed_imports=False
)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Every epoch (a crash loses at most one epoch; resumes are exact at epoch
    # ends), keeping the newest 3: a damaged newest file leaves one to fall
    # back to, and mmengine deletes the oldest before writing the next.
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_last=True,
        # temp file + rename: a crash while saving never corrupts a checkpoint
        backend_args=dict(backend='atomic_local'),
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # New augmentations every epoch: the epoch in the dataloader workers' seeds.
    worker_seed=dict(type='EpochWorkerSeedHook'),
    # Long-run safety (mmpixpro.engine.hooks); override by key (a key of
    # these is dropped with default_hooks.pop(KEY) in a config, not None).
    # All ranks stop together, before a checkpoint of non-finite weights.
    non_finite_loss=dict(type='NonFiniteLossHook'),
    # The limit applies to the unreadable images of all ranks together.
    unreadable_images=dict(type='UnreadableImageHook', max_fraction=0.01),
    feature_spread=dict(type='FeatureSpreadHook', threshold=0.05),
    # One warning when world size x batch size is not auto_scale_lr.base_batch_size.
    protocol_batch=dict(type='ProtocolBatchHook'),
    # The last checkpoint as a file to share (weights and meta, readable by
    # torch.load(weights_only=True) anywhere) when training ends:
    # --cfg-options default_hooks.publish.enable=True.
    publish=dict(type='PublishCheckpointHook', enable=False),
    # Checkpoints as plain data with a digest of their tensors: they load with
    # torch.load(weights_only=True) anywhere, and a damaged one is named.
    plain_checkpoint=dict(type='PlainCheckpointHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is visible.
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10)
# Loss terms, lr, tau and the feature spread go to every backend: JSON
# (vis_data/scalars.json) and TensorBoard (vis_data/events.*). Weights &
# Biases: add dict(type='WandbVisBackend') after `pip install wandb`.
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
# Data order and augmentation are reproducible from the seed; each epoch,
# rank and dataloader worker draws its own stream (EpochWorkerSeedHook,
# from seed, epoch, rank and worker id), and a resumed epoch the same one.
randomness = dict(seed=0, deterministic=False)
