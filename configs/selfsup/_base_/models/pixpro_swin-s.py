# PixPro on mmdet's Swin-S (swin/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco.py:
# Swin-T's arguments with 18 blocks in stage 3). Drop path 0.3 online, Swin-S's
# own ImageNet training value (MoBY gives Swin-T only).
_base_ = 'pixpro_swin-t.py'

model = dict(backbone=dict(depths=[2, 2, 18, 2], drop_path_rate=0.3))
