# PixPro on FPN + the FCOS head towers (cls and reg, GN, shared over levels).
# The projector sees both towers' outputs concatenated (2 x 256 channels).
_base_ = 'pixpro_r50_fpn.py'

model = dict(
    bbox_head={{_base_.fcos_towers}},
    projector=dict(in_channels=512),
)
