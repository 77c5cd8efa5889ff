# PixPro on mmpretrain's ConvNeXt-T, built with the arguments of mmdet's
# ConvNeXt-T Mask R-CNN config
# (convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py, which
# builds it as mmpretrain.ConvNeXt), so that every backbone.* tensor has the
# fine-tuning model's name and shape: every stage output, each with its
# norm, no pooling before it. The readings and the rest:
# pixpro_swin-convnext.py.
_base_ = 'pixpro_swin-convnext.py'

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
)
