# PixPro, ViT-B/16 on its stride-16 map (C4: the patch tokens, 14 x 14 at
# 224 px), ImageNet-1K, 100 epochs, 8 GPUs x 64 images: the Swin / ConvNeXt
# configs' recipe (MoBY's AdamW, lr 1e-3 at batch 512, 5 warm-up epochs,
# cosine; drop path online only; mixed precision), PixPro's T, gamma, l,
# momentum and augmentation. No layer-wise lr decay (neither PixPro nor MoBY
# uses it; it is a fine-tuning recipe). backbone.* loads into the ViT Mask
# R-CNN benchmark unconverted (configs/benchmarks/mmdet/).
_base_ = [
    '_base_/models/pixpro_vit-b-p16.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/adamw_coslr-100e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64)
# no weight decay on the position embedding and the class token either
# (MoCo v3's and DeiT's ViTs: timm's no_weight_decay), besides the 1-D
# parameters of the AdamW base
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }
    )
)
