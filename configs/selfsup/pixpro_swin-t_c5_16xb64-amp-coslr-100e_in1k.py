# PixPro, Swin-T C5, ImageNet-1K, 100 epochs, a total batch of 1024 (16 GPUs
# x 64 images; or 8 x 128): lr 2e-3, MoBY's 1e-3 at 512 scaled linearly
# (warm-up and final lr are relative to it).
_base_ = 'pixpro_swin-t_c5_8xb64-amp-coslr-100e_in1k.py'

optim_wrapper = dict(optimizer=dict(lr=2e-3))
auto_scale_lr = dict(base_batch_size=1024)
