# PixPro on P3-P6 of ViTDet's simple feature pyramid on ViT-B/16 (the
# pyramid of the ViT Mask R-CNN benchmark), ImageNet-1K, 100 epochs, 8 GPUs x
# 64 images (the C4 config's recipe). backbone.* and neck.* load into
# configs/benchmarks/mmdet/mask-rcnn_vit-b-p16_simple-fpn_1x_coco_mmpixpro.py
# unconverted.
_base_ = 'pixpro_vit-b-p16_c4_8xb64-amp-coslr-100e_in1k.py'

model = {{_base_.fpn_reading}}
