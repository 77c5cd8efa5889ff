# PixContrast (Sec. 3.1, Table 3): the pixel InfoNCE loss of Eq. 2 on C5. The
# encoder is PixPro's (Sec. 3.2: the two differ in the PPM and the loss
# only), projector 2048-4096-256 as in every PixPro row (the authors'
# release); the rows set the temperature and whether the PPM stays.
_base_ = 'pixpro_r50_c5.py'

model = dict(
    head=dict(
        loss=dict(
            _delete_=True, type='PixContrastLoss', skip_empty=True, loss_weight=1.0
        )
    ),
)
