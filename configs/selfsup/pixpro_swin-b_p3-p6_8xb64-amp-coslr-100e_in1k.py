# PixPro on P3-P6 of mmdet's Swin-B Mask R-CNN FPN, ImageNet-1K, 100 epochs,
# 8 GPUs x 64 images (the C5 config's recipe). backbone.* and neck.* load
# into mmdet's Swin-B Mask R-CNN unconverted.
_base_ = 'pixpro_swin-b_c5_8xb64-amp-coslr-100e_in1k.py'

model = {{_base_.fpn_reading}}
