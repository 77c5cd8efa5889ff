# Mask R-CNN on ViT-B/16 with ViTDet's simple feature pyramid, 1x on COCO.
# mmdet has no Mask R-CNN config of its own for a plain ViT (it ships ViTDet
# only as a source project, projects/ViTDet), so this one is ours: mmdet's
# Mask R-CNN R50-FPN 1x (mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py) with its
# heads, data and 12-epoch schedule kept, the ResNet replaced by the ViT and
# the FPN by the pyramid (configs/_base_/vit_simple_pyramid.py: P2-P6, the
# levels its RPN and RoI heads take), and the optimiser of mmdet's Swin-T
# Mask R-CNN 1x (AdamW) for the transformer. From the checkpoint given as
# load_from: backbone.*, and neck.* when it was pre-trained on the pyramid
# (configs/selfsup/pixpro_vit-b-p16_p3-p6_*), unconverted.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../../_base_/vit_simple_pyramid.py',
    '../_base_/transfer_rules.py',
]

custom_imports = dict(
    imports=['mmpixpro.benchmarks', 'mmpixpro.engine.safe_checkpoint_loading'],
    allow_failed_imports=False,
)
# nothing downloaded: the hook loads load_from
model = dict(backbone={{_base_.vit_b_p16}}, neck={{_base_.vit_simple_pyramid}})
custom_hooks = [
    dict(
        type='mmpixpro.PretrainedTransferHook',
        rules=[{{_base_.backbone_rule}}, {{_base_.neck_rule}}],
    ),
    {{_base_.plain_checkpoint_hook}},
]
# mmdet's Swin-T Mask R-CNN 1x optimiser and warm-up: AdamW, lr 1e-4,
# weight decay 0.05, none on norms (there: names with 'norm'; the ViT's are
# ln1 / ln2, the pyramid's ln: by type here) nor on the position embedding
# and the class token (as its absolute_pos_embed)
optim_wrapper = dict(
    type='OptimWrapper',
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        },
    ),
    optimizer=dict(
        _delete_=True, type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1,
    ),
]
