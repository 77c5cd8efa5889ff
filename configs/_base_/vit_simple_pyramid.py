# ViT-B/16 (mmpretrain's VisionTransformer) and ViTDet's simple feature
# pyramid on it (mmpixpro's SimpleFeaturePyramid: P2-P6 from the one stride-16
# map, 256 channels). The one place these settings live: the PixPro
# pre-training on the ViT (configs/selfsup/_base_/models/pixpro_vit-b-p16.py)
# and the Mask R-CNN benchmark
# (configs/benchmarks/mmdet/mask-rcnn_vit-b-p16_simple-fpn_1x_coco_mmpixpro.py)
# both take them from here, so the checkpoint's backbone.* and neck.* fit the
# detector unconverted. `_delete_`: they replace the ResNet / FPN of the
# configs they go into.
vit_b_p16 = dict(
    _delete_=True,
    type='mmpretrain.VisionTransformer',
    arch='b',  # embed 768, 12 layers, 12 heads, MLP 3072
    # the position embedding of 14 x 14 patches (and the class token's),
    # resized (bicubic) to every input: its tensor keeps its shape from
    # pre-training to fine-tuning
    img_size=224,
    patch_size=16,
    out_type='featmap',  # patch tokens as [N, 768, H/16, W/16]
    # ViT-B's ImageNet training (DeiT-B) and ViTDet's ViT-B fine-tuning:
    # 0.1; the target of PixPro encodes without it
    drop_path_rate=0.1,
)
vit_simple_pyramid = dict(
    _delete_=True,
    type='SimpleFeaturePyramid',
    _scope_='mmpixpro',  # found (and its norms built) from mmdet's scope too
    in_channels=768,
    out_channels=256,
    scale_factors=(4.0, 2.0, 1.0, 0.5),  # P2-P5 of ViTDet
    num_outs=5,  # + P6, max-pooled from P5: mmdet's Mask R-CNN levels
    # ViTDet's norm="LN": LayerNorm over channels (eps 1e-6)
    norm_cfg=dict(type='LN2d', eps=1e-6),
)
