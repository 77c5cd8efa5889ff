# PixPro, Swin-S C5 (the last stage, stride 32), ImageNet-1K, 100 epochs,
# 8 GPUs x 64 images: MoBY's recipe (AdamW, lr 1e-3 at batch 512, 5 warm-up
# epochs, cosine; drop path online only), PixPro's T, gamma, l, momentum and
# augmentation. backbone.* loads into mmdet's / mmseg's Swin-S models
# unconverted (configs/benchmarks/).
_base_ = [
    '_base_/models/pixpro_swin-s.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/adamw_coslr-100e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64)
