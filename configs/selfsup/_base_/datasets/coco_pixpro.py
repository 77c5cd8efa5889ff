# The COCO train2017 images (118k, labels ignored) as a plain image folder,
# with the pre-training views of imagenet_pixpro.py: Table 6's extra stage
# pre-trains "directly on downstream unlabelled data", the images of the
# downstream training set. coco-with-unlabeled2017_pixpro.py adds the 123k
# images of unlabeled2017 (about twice the iterations per epoch).
_base_ = 'imagenet_pixpro.py'

coco_root = 'data/coco/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ImageFolder',
        data_root=coco_root + 'train2017',
        pipeline={{_base_.train_pipeline}},
    )
)
