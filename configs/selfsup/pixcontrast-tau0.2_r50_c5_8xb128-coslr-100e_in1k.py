# Table 3: PixContrast (Eq. 2), temperature 0.2, without the PPM.
_base_ = [
    '_base_/models/pixcontrast_r50_c5.py',
    '_base_/datasets/imagenet_pixpro.py',
    '_base_/schedules/lars_coslr-100e.py',
    '_base_/default_runtime.py',
]

model = dict(head=dict(ppm=None, loss=dict(temperature=0.2)))
