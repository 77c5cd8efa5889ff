# PixPro on the C5 output of ResNet-50 (the paper's default).
norm_cfg = dict(type='SyncBN')  # BN on CPU / single process

model = dict(
    type='PixPro',
    base_momentum=0.01,  # tau: 0.99 -> 1, cosine over all iterations
    # Weights and images in channels_last: same results, less time per step
    # (docs/en/notes/performance.md, .dev_scripts/speed.py --compare-channels-last).
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
        loss=dict(type='PixProLoss', skip_empty=True, loss_weight=1.0),
        # max_elements: from pixel_max_elements below, by device type.
    ),
)
# The pixel head's bound on the elements of one [N, rows, HW] block of the
# pair rule, loss and PPM (2**22: 16 MiB in fp32). Above it a level runs in
# checkpointed row chunks (exact, memory of one chunk); None: always dense.
# tools/train.py copies the entry of the run's device type into
# model.head.max_elements (unless that is given): the same on every rank,
# never a reading of free memory; checkpoints record it and a resumed run
# keeps it. On a GPU, P3 of 224 px at 128 images (78.7 M elements) runs
# dense; on CPU it runs in chunks.
pixel_max_elements = dict(cuda=1 << 27, cpu=1 << 22)
