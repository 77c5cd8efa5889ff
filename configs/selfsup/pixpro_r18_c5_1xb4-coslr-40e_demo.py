# CPU demo: PixPro with ResNet-18 C5 on the twelve bundled photos.
# The augmentation recipe and every PixPro setting are those of the paper;
# only the backbone, batch, schedule length and BN (no SyncBN) differ.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

norm_cfg = dict(type='BN')
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    projector=dict(in_channels=512, hid_channels=1024, norm_cfg=norm_cfg),
)

# The bundled photos, found from this file's folder (configs/selfsup/ in a
# checkout, mmpixpro/.mim/configs/selfsup/ when installed), whatever the
# folder the command runs in.
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(data_root='{{fileDirname}}/../../demo/photos'),
)

max_epochs = 40
optim_wrapper = dict(optimizer=dict(lr=1.0))
auto_scale_lr = dict(base_batch_size=4)  # the lr above is set for batch 4
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 2,
        eta_min=1e-6,
        by_epoch=True,
        begin=2,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=20, max_keep_ckpts=2)
)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
