# Semi-supervised COCO (Table 6): the 1 % labelled folds; see the 10 % config.
_base_ = 'mask-rcnn_r50_fpn_8xb2-ms-12e_coco-10pct_paper-arch.py'

percent = 1
fold = 1
train_dataloader = dict(
    dataset=dict(ann_file=f'semi_anns/instances_train2017.{fold}@{percent}.json')
)
