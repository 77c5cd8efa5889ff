# FCOS R50-FPN with a GN head (mmdet 3.x): the FPN and the conv towers.
# The one place these settings live: the FPN + head pre-training and the
# FCOS benchmark both take them from here, so the checkpoint's
# `neck.*` and `bbox_head.{cls,reg}_convs.*` tensors fit the detector.
fcos_neck = dict(
    type='mmdet.FPN',
    in_channels=[256, 512, 1024, 2048],
    out_channels=256,
    start_level=1,  # C3..C5 -> P3..P5, extra convs -> P6, P7
    add_extra_convs='on_output',
    num_outs=5,
    relu_before_extra_convs=True,
)
fcos_towers = dict(
    in_channels=256,
    feat_channels=256,
    stacked_convs=4,
    norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
)
# Pre-training covers the towers "until the third 3x3 convolutional layer in
# the head" (Sec. 3.3): their first three convs; the detector's fourth starts
# fresh at fine-tuning.
fcos_pretrained_towers = dict(fcos_towers, type='FCOSTowers', stacked_convs=3)
