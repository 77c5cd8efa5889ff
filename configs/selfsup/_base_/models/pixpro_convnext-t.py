# PixPro on mmpretrain's ConvNeXt-T, built with the arguments of mmdet's
# ConvNeXt-T Mask R-CNN config
# (convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py, which
# builds it as mmpretrain.ConvNeXt), so that every backbone.* tensor has the
# fine-tuning model's name and shape: every stage output, each with its
# norm, no pooling before it. The C5 reading takes the pixel loss on the last
# stage (stride 32), the FPN reading (`fpn_reading`) on P3-P6 of the
# detector's own FPN. PixPro's values are those of pixpro_r50_c5.py; the
# recipe around them is MoBY's (docs/en/notes/paper_readings.md).
_base_ = ['pixpro_r50_c5.py', 'instance_head.py']

stage_channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        # ConvNeXt-T's own ImageNet training value; 0.0 in the target
        # (target_drop_path=False), as MoBY's
        drop_path_rate=0.1,
        # ConvNeXt's initial layer scale (mmdet's 1.0 only matters when a
        # checkpoint overwrites it; the shapes are the same)
        layer_scale_init_value=1e-6,
        gap_before_final_norm=False,
        # activation checkpointing (GPU configs; shrink_config(cpu=True)
        # switches it off)
        with_cp=True,
    ),
    projector=dict(in_channels=768),
    out_levels=('C5',),
    target_drop_path=False,
)
# The Mask R-CNN-aligned reading: mmdet's FPN of that detector (C2-C5 ->
# P2-P6, 256 channels, no norm), the pixel loss on P3-P6.
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
