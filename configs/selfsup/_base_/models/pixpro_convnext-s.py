# PixPro on mmpretrain's ConvNeXt-S (ConvNeXt-T's arguments with 27 blocks
# in stage 3, as mmdet's ConvNeXt-S configs build it). Drop path 0.4 online,
# ConvNeXt-S's own ImageNet training value.
_base_ = 'pixpro_convnext-t.py'

model = dict(backbone=dict(arch='small', drop_path_rate=0.4))
