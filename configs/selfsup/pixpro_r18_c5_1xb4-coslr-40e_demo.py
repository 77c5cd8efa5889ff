# CPU demo: PixPro with ResNet-18 C5 on the twelve bundled photos.
# The augmentation recipe and every PixPro setting are those of the paper;
# only the backbone, batch, schedule length and BN (no SyncBN) differ.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

norm_cfg = dict(type='BN')
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    projector=dict(in_channels=512, hid_channels=1024, norm_cfg=norm_cfg),
)

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(data_root='demo/photos'),
)

optim_wrapper = dict(optimizer=dict(lr=1.0))
train_cfg = dict(max_epochs=40)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=20, max_keep_ckpts=2)
)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
