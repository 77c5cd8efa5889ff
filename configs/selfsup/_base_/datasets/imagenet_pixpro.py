# Two asymmetric views per image (BYOL colour recipe), each recording its
# crop box in the original image. Images are decoded to BGR (libspng /
# libjpeg-turbo, OpenCV's pixels); the data preprocessor converts to RGB and
# normalises with ImageNet statistics.
data_root = 'data/imagenet/train/'
crop_size = 224

view_pipeline1 = [
    dict(
        type='RandomResizedCropWithCoord',
        scale=crop_size,
        crop_ratio_range=(0.08, 1.0),
        aspect_ratio_range=(3.0 / 4.0, 4.0 / 3.0),
        interpolation='bilinear',
        backend='cv2',
        # low-pass before shrinking, close to PIL's antialiased bilinear
        # resize of the authors' release (docs/en/notes/performance.md)
        antialias=True,
    ),
    dict(type='RandomFlipWithCoord', prob=0.5),
    # Colour maps on uint8 with OpenCV / lookup tables (mmpixpro.datasets
    # .transforms.photometric): the torchvision recipe's maps, several times
    # faster than the float / PIL versions (.dev_scripts/speed.py).
    dict(
        type='FastColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.2,
        hue=0.1,
        prob=0.8,
    ),
    dict(type='FastRandomGrayscale', prob=0.2),
    dict(type='FastGaussianBlur', sigma_range=(0.1, 2.0), prob=1.0),
    dict(type='FastSolarize', threshold=128, prob=0.0),
]
# View 2 differs only in blur (p=0.1) and solarisation (p=0.2).
view_pipeline2 = [
    *view_pipeline1[:4],
    dict(type='FastGaussianBlur', sigma_range=(0.1, 2.0), prob=0.1),
    dict(type='FastSolarize', threshold=128, prob=0.2),
]

train_pipeline = [
    # unreadable files are skipped, counted and reported (UnreadableImageHook)
    dict(type='LoadImageOrSkip'),
    dict(
        type='MultiViewWithCoord',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2],
    ),
    dict(type='PackPixProInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    # Workers restart (reseeded) every epoch: a resumed run draws the same
    # augmentations as an uninterrupted one.
    persistent_workers=False,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolder', data_root=data_root, pipeline=train_pipeline),
)
