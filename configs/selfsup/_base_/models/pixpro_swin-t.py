# PixPro on mmdet's Swin-T, built with the arguments of mmdet's Swin-T Mask
# R-CNN configs (swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py), so that every
# backbone.* tensor has the fine-tuning model's name and shape. The backbone
# outputs every stage, as the detector's does (its four output norms are
# tensors of the checkpoint); the C5 reading takes the pixel loss on the
# last (stride 32, 7 x 7 at 224 px), the FPN reading (`fpn_reading`) on
# P3-P6 of the detector's own FPN. PixPro's values (T, gamma, l, momentum,
# projector, loss) are those of pixpro_r50_c5.py; the recipe around them is
# MoBY's (docs/en/notes/paper_readings.md).
_base_ = ['pixpro_r50_c5.py', 'instance_head.py']

stage_channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.SwinTransformer',
        embed_dims=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        window_size=7,
        mlp_ratio=4,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        # MoBY: 0.2 online, 0.0 target (target_drop_path=False); Swin-T's
        # own ImageNet training uses 0.2 as well
        drop_path_rate=0.2,
        patch_norm=True,
        out_indices=(0, 1, 2, 3),
        # activation checkpointing (GPU configs; shrink_config(cpu=True)
        # switches it off): same results, less memory, one more forward
        with_cp=True,
        convert_weights=True,  # as mmdet's (used only with a Pretrained init)
    ),
    projector=dict(in_channels=768),
    out_levels=('C5',),
    target_drop_path=False,
)
# The Mask R-CNN-aligned reading: mmdet's FPN of that detector (C2-C5 ->
# P2-P6, 256 channels, no norm), the pixel loss on P3-P6; backbone.* and
# neck.* load into mmdet's Swin-T Mask R-CNN unconverted.
# A P3-P6 config: `model = {{_base_.fpn_reading}}`.
fpn_reading = dict(
    neck=dict(
        type='mmdet.FPN', in_channels=stage_channels, out_channels=256, num_outs=5
    ),
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
# The instance branch (SimCLR*, Eq. 6) on this backbone's C5.
simclr_star_head = dict(projector=dict(in_channels=768))
# Outputs without a loss (the first three output norms for C5; P2 and some
# FPN convs) have no gradient.
find_unused_parameters = True
# Drop-path masks seeded per iteration (seed, iteration, rank): a resumed run
# draws the masks the uninterrupted run drew.
custom_hooks = [dict(type='IterSeedHook')]
