# PixPro on P3-P6 of mmdet's Swin-T Mask R-CNN FPN, ImageNet-1K, 100 epochs,
# a total batch of 1024 (16 GPUs x 64 images): lr 2e-3.
_base_ = 'pixpro_swin-t_c5_16xb64-amp-coslr-100e_in1k.py'

model = {{_base_.fpn_reading}}
