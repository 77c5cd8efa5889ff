# PixPro (C5) + the paper's SimCLR* instance branch on Swin-B's pooled C5
# (Eq. 6, alpha = 1), ImageNet-1K, 100 epochs, 8 GPUs x 64 images.
_base_ = 'pixpro_swin-b_c5_8xb64-amp-coslr-100e_in1k.py'

model = dict(instance_head={{_base_.simclr_star_head}})
