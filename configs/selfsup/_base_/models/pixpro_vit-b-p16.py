# PixPro on mmpretrain's ViT-B/16 (a plain ViT: one map at stride 16, 14 x 14
# at 224 px), the backbone the Mask R-CNN benchmark builds
# (configs/_base_/vit_simple_pyramid.py), so that every backbone.* tensor has
# the fine-tuning model's name and shape. The C4 reading takes the pixel loss
# on that stride-16 map (the level PixPro names C4: stride 2**4); the pyramid
# reading (`fpn_reading`) on P3-P6 of ViTDet's simple feature pyramid.
# The rest is the Swin / ConvNeXt configs' (pixpro_swin-convnext.py: PixPro's
# values, MoBY's recipe, no drop path in the target, IterSeedHook).
_base_ = ['pixpro_swin-convnext.py', '../../../_base_/vit_simple_pyramid.py']

stage_channels = [768]  # the one output's width
model = dict(
    backbone={{_base_.vit_b_p16}},
    projector=dict(in_channels=768),
    out_levels=('C4',),
)
# The Mask R-CNN-aligned reading: the pyramid of the benchmark's detector
# (P2-P6, 256 channels), the pixel loss on P3-P6; backbone.* and neck.* load
# into it unconverted. A P3-P6 config: `model = {{_base_.fpn_reading}}`.
fpn_reading = dict(
    neck={{_base_.vit_simple_pyramid}},
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
