# PixPro on P3-P6 of mmdet's Swin-T Mask R-CNN FPN, ImageNet-1K, 300 epochs,
# 8 GPUs x 64 images.
_base_ = 'pixpro_swin-t_c5_8xb64-amp-coslr-300e_in1k.py'

model = {{_base_.fpn_reading}}
