# The FPN of Mask R-CNN R50-FPN (mmdet 3.x): C2..C5 -> P2..P5, P6 by max
# pooling P5, 256 channels, with SyncBN in its lateral and output
# convolutions as the transfer protocol fine-tunes it. The one place these
# settings live: the Mask R-CNN-aligned pre-training and the Mask R-CNN FPN
# benchmarks both take them from here, so the checkpoint's `neck.*` tensors
# fit the detector unconverted.
mask_rcnn_neck = dict(
    type='mmdet.FPN',
    in_channels=[256, 512, 1024, 2048],
    out_channels=256,
    num_outs=5,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
)
