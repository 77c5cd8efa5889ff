# PixPro, ResNet-50 C5, ImageNet-1K, 50 epochs, 8 GPUs x 128 images (Table 2f).
_base_ = [
    '_base_/models/pixpro_r50_c5.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-50e.py',
    '_base_/default_runtime.py',
]
