# PixPro on P3-P6 of mmdet's Swin-T Mask R-CNN FPN + the SimCLR* instance
# branch on pooled C5 (Eq. 6, alpha = 1), ImageNet-1K, 100 epochs, 8 GPUs x
# 64 images.
_base_ = 'pixpro_swin-t_p3-p6_8xb64-amp-coslr-100e_in1k.py'

model = dict(instance_head={{_base_.simclr_star_head}})
