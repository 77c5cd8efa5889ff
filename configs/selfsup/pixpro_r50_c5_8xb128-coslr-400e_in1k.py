# PixPro, ResNet-50 C5, ImageNet-1K, 400 epochs, 8 GPUs x 128 images.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

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
        T_max=395,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=400,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=400)
