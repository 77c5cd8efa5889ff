# 300 epochs of AdamW (MoBY's schedule): linear warm-up for 5 epochs from
# 5e-7 to lr (5e-7 / 1e-3 at batch 512), then cosine to lr / 200 (MoBY's
# min lr 5e-6 at 1e-3), both stepped per iteration and relative to lr, so
# that they scale with it.
_base_ = 'adamw.py'

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-4,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=295,
        eta_min_ratio=5e-3,
        by_epoch=True,
        begin=5,
        end=300,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
