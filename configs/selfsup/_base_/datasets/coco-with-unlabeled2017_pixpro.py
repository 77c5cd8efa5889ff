# The option to coco_pixpro.py: the train2017 and unlabeled2017 images
# (labels ignored; 118k + 123k) as two plain image folders, with the
# pre-training views of imagenet_pixpro.py.
_base_ = 'imagenet_pixpro.py'

coco_root = 'data/coco/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='ImageFolder',
                data_root=coco_root + 'train2017',
                pipeline={{_base_.train_pipeline}},
            ),
            dict(
                type='ImageFolder',
                data_root=coco_root + 'unlabeled2017',
                pipeline={{_base_.train_pipeline}},
            ),
        ],
    )
)
