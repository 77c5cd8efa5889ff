# What PixPro on Swin Transformer and ConvNeXt shares (pixpro_swin-t.py,
# pixpro_convnext-t.py add the backbone): the backbone outputs every stage
# (strides 4-32, widths `stage_channels`), as the detectors' and segmenters'
# backbones do (its four output norms are tensors of the checkpoint); the C5
# reading takes the pixel loss on the last stage (stride 32, 7 x 7 at
# 224 px), the FPN reading (`fpn_reading`) on P3-P6 of the detectors' own
# FPN. PixPro's values (T, gamma, l, momentum, projector, loss) are those of
# pixpro_r50_c5.py; the recipe around them is MoBY's
# (docs/en/notes/paper_readings.md).
_base_ = ['pixpro_r50_c5.py', 'instance_head.py']

stage_channels = [96, 192, 384, 768]  # the T and S sizes of both families
model = dict(
    projector=dict(in_channels=768),
    out_levels=('C5',),
    # MoBY: drop path in the online branch, none in the target
    target_drop_path=False,
)
# The Mask R-CNN-aligned reading: mmdet's FPN of that detector for these
# backbones (C2-C5 -> P2-P6, 256 channels, no norm), the pixel loss on
# P3-P6; backbone.* and neck.* load into it unconverted.
# A P3-P6 config: `model = {{_base_.fpn_reading}}`.
fpn_reading = dict(
    neck=dict(
        type='mmdet.FPN', in_channels=stage_channels, out_channels=256, num_outs=5
    ),
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
# The instance branch (SimCLR*, Eq. 6) on C5.
simclr_star_head = dict(projector=dict(in_channels=768))
# Outputs without a loss (the first three output norms for C5; P2 and some
# FPN convs) have no gradient.
find_unused_parameters = True
# Drop-path masks seeded per iteration (seed, iteration, rank): a resumed run
# draws the masks the uninterrupted run drew.
custom_hooks = [dict(type='IterSeedHook')]
