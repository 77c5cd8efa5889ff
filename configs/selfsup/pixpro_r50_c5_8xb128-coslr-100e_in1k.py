# PixPro, ResNet-50 C5, ImageNet-1K, 100 epochs, 8 GPUs x 128 images: the
# paper's default (Table 1; the * row of every ablation of Tables 2-4).
_base_ = [
    '_base_/models/pixpro_r50_c5.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]
