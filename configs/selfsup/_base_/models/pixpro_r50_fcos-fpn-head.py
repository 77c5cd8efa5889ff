# PixPro on the FCOS FPN + the FCOS head towers (cls and reg, GN, shared over
# levels) up to their third 3x3 convolution (configs/_base_/fcos_fpn_head.py).
# The projector sees both towers' outputs concatenated (2 x 256 channels).
_base_ = 'pixpro_r50_fcos-fpn.py'

model = dict(
    bbox_head={{_base_.fcos_pretrained_towers}},
    projector=dict(in_channels=512),
)
