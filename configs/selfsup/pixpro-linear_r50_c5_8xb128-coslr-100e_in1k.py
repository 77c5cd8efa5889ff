# Table 3: PixPro without the PPM, "a linear transformation layer" (one
# 1x1 conv with bias) in its place.
_base_ = 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py'

model = dict(
    head=dict(
        ppm=dict(
            _delete_=True,
            type='Conv2d',
            in_channels=256,
            out_channels=256,
            kernel_size=1,
        )
    )
)
