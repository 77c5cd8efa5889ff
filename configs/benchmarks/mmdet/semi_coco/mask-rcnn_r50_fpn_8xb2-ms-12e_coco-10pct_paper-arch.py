# Semi-supervised COCO (Table 6): Mask R-CNN R50-FPN fine-tuned on a 10 %
# labelled fold of train2017 (tools/misc/split_coco.py), 1x schedule: 12
# epochs over the subset, so the iterations scale with its size. The fold
# runner (tools/benchmarks/semi_coco.py) sets the fold's annotation file.
_base_ = '../mask-rcnn_r50_fpn_1x_coco.py'

percent = 10
fold = 1
train_dataloader = dict(
    dataset=dict(ann_file=f'semi_anns/instances_train2017.{fold}@{percent}.json')
)
