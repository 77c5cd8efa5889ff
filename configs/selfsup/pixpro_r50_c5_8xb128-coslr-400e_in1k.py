# PixPro, ResNet-50 C5, ImageNet-1K, 400 epochs, 8 GPUs x 128 images.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

train_cfg = dict(max_epochs=400)
