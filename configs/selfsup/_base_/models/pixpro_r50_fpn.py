# PixPro on the FPN of Mask R-CNN R50-FPN (C2..C5 -> P2..P6, SyncBN), the
# pixel loss on P3-P6 as the paper's FPN pre-training (Table 1 COCO R50-FPN,
# Table 2e, Table 6); P2 (56 x 56 at 224 px) gets no loss. One projector and
# one PPM serve every level; loss averaged per level, then over levels. The
# checkpoint's backbone.* and neck.* load into Mask R-CNN R50-FPN unconverted.
_base_ = ['pixpro_r50_c5.py', '../../../_base_/mask_rcnn_fpn.py']

model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck={{_base_.mask_rcnn_neck}},
    projector=dict(in_channels=256),
    out_levels=('P3', 'P4', 'P5', 'P6'),
)
# P2 (and other levels for single-level outputs) gets no loss: some FPN
# convolutions then have no gradient.
find_unused_parameters = True
