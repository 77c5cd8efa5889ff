# PixPro on mmdet's Swin-T, built with the arguments of mmdet's Swin-T Mask
# R-CNN configs (swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py), so that every
# backbone.* tensor has the fine-tuning model's name and shape; the readings
# and the rest: pixpro_swin-convnext.py.
_base_ = 'pixpro_swin-convnext.py'

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
)
