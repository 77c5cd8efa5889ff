# PixContrast (Sec. 3.1, Table 3): the pixel InfoNCE loss of Eq. 2 on C5, with
# the paper's projector of two 1x1 convs with 2048 and 256 outputs. The rows
# set the temperature and whether the PPM stays.
_base_ = 'pixpro_r50_c5.py'

model = dict(
    projector=dict(hid_channels=2048),
    head=dict(loss=dict(_delete_=True, type='PixContrastLoss', skip_empty=True)),
)
