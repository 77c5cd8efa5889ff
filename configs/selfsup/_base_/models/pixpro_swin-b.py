# PixPro on Swin-B (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7),
# the arguments of mmseg's swin-base-patch4-window7 UperNet configs; its FPN
# reading is Mask R-CNN's FPN on those widths. Drop path 0.5 online, Swin-B's
# own ImageNet training value (MoBY gives Swin-T only).
_base_ = 'pixpro_swin-t.py'

stage_channels = [128, 256, 512, 1024]
model = dict(
    backbone=dict(
        embed_dims=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        drop_path_rate=0.5,
    ),
    projector=dict(in_channels=1024),
)
fpn_reading = dict(neck=dict(in_channels=stage_channels))
simclr_star_head = dict(projector=dict(in_channels=1024))
