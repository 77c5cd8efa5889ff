# PixPro, Swin-T C5, ImageNet-1K, 300 epochs (MoBY's length), 8 GPUs x 64
# images: the 100-epoch config's recipe with the 300-epoch schedule.
_base_ = [
    '_base_/models/pixpro_swin-t.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/adamw_coslr-300e.py',
    '_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64)
