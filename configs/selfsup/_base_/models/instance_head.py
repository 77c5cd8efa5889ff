# The instance branch (Eq. 6) on C5: a dense projector with the pixel
# projector's architecture (2048 -> 4096 -> 256, 1x1 convs), pooled after
# the projection; its momentum copy gives the keys. loss_weight is alpha.
instance_projector = dict(
    type='DenseProjector',
    in_channels=2048,
    hid_channels=4096,
    out_channels=256,
    norm_cfg=dict(type='SyncBN'),
)
# SimCLR* (Tables 4 and 5): InfoNCE of the online view against the momentum
# keys of the other view, negatives from the whole batch gathered over all
# processes. The paper gives no temperature; 0.2 is our choice (MoCo v2's).
simclr_star_head = dict(
    type='InstanceHead',
    projector=instance_projector,
    loss=dict(type='InfoNCELoss', temperature=0.2),
    loss_weight=1.0,
)
# BYOL-style: a dense predictor on the online side, -2 cos per direction.
byol_instance_head = dict(
    type='InstanceHead',
    projector=instance_projector,
    predictor=dict(
        type='DenseProjector',
        in_channels=256,
        hid_channels=4096,
        out_channels=256,
        norm_cfg=dict(type='SyncBN'),
    ),
    loss=dict(
        type='mmpretrain.CosineSimilarityLoss', shift_factor=0.0, scale_factor=2.0
    ),
    loss_weight=1.0,
)
