# 120 epochs of LARS: linear warm-up for 5 epochs from lr / 100, then cosine
# to 1e-6, both stepped per iteration.
_base_ = 'lars.py'

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
        T_max=115,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=120,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=120)
