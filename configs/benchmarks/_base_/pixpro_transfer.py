# What every benchmark shares with PixPro pre-training: its input
# normalisation (RGB, ImageNet mean / std, as in
# configs/selfsup/_base_/models/pixpro_r50_c5.py; a test checks they are
# equal), SyncBN everywhere, a pytorch-style ResNet trained in full, and the
# hook that loads the checkpoint given to tools/benchmarks/train.py, or as
# `--cfg-options load_from=PIXPRO.pth` to mmdet's / mmseg's / mmpretrain's
# own train.py (`mim train`), which find the hook through custom_imports.
_base_ = 'transfer_rules.py'

# mmpixpro.engine.safe_checkpoint_loading: mmengine reads every checkpoint
# (load_from, init_cfg, --resume, also of their train.py) with mmpixpro's
# reader: weights_only=True, URLs downloaded first, the tensor digest checked.
custom_imports = dict(
    imports=['mmpixpro.benchmarks', 'mmpixpro.engine.safe_checkpoint_loading'],
    allow_failed_imports=False,
)

pixpro_mean = [123.675, 116.28, 103.53]
pixpro_std = [58.395, 57.12, 57.375]
pixpro_norm_cfg = dict(type='SyncBN', requires_grad=True)
# For mmdet's DetDataPreprocessor and mmseg's SegDataPreProcessor.
pixpro_preprocessor = dict(mean=pixpro_mean, std=pixpro_std, bgr_to_rgb=True)
# The backbone as pre-trained: nothing frozen, BN statistics updated
# (detectron2: RESNETS.NORM = "SyncBN", BACKBONE.FREEZE_AT = 0,
# RESNETS.STRIDE_IN_1X1 = False).
pixpro_resnet = dict(
    style='pytorch',
    frozen_stages=-1,
    norm_cfg=pixpro_norm_cfg,
    norm_eval=False,
    init_cfg=None,  # nothing downloaded; the hook loads PixPro's (load_from)
)
# The C4 RoI head: res5 of the backbone, then one more norm (mmpretrain's
# ResLayerExtraNorm, registered in mmdet's registry; the authors'
# Res5ROIHeadsExtraNorm).
pixpro_c4_shared_head = dict(
    type='ResLayerExtraNorm',
    style='pytorch',
    norm_cfg=pixpro_norm_cfg,
    norm_eval=False,
    init_cfg=None,  # res5 comes from the PixPro checkpoint
)
# Loading rules (transfer_rules.py: the backbone, the FPN); the C4 detectors
# take res5 -> RoI shared head.
c4_rules = [
    {{_base_.backbone_rule}},
    dict(
        model='roi_head.shared_head.layer4.',
        checkpoint='backbone.layer4.',
        required=True,
    ),
]
