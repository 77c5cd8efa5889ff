# PixPro on the C5 output of ResNet-50 (the paper's default).
norm_cfg = dict(type='SyncBN')  # BN on CPU / single process

model = dict(
    type='PixPro',
    base_momentum=0.01,  # tau: 0.99 -> 1, cosine over all iterations
    # Weights and images in channels_last: same results; steps 8-10 % faster
    # on CPU at batch 4 x 2 views (two runs), equal within noise at batch 2
    # (.dev_scripts/speed.py --compare-channels-last; docs/en/notes/performance.md).
    channels_last=True,
    # mmpretrain's SelfSupDataPreprocessor, run outside torch.compile.
    data_preprocessor=dict(
        type='PixProDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True,
    ),
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=50,
        out_indices=(3,),  # C5
        norm_cfg=norm_cfg,
        zero_init_residual=True,
    ),
    projector=dict(
        type='DenseProjector',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        norm_cfg=norm_cfg,
    ),
    head=dict(
        type='PixelHead',
        pos_threshold=0.7,  # T
        ppm=dict(
            type='PixelPropagationModule',
            in_channels=256,
            gamma=2.0,
            num_layers=1,
        ),
        # Images whose two views share no positive pair leave the batch mean,
        # as the paper says (skip_empty=False: they count as 0, as in the
        # authors' release).
        loss=dict(type='PixProLoss', skip_empty=True),
    ),
)
