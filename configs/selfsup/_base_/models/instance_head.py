# The instance branch (Eq. 6) on pooled C5: BYOL-style projector and
# predictor; loss_weight is alpha.
instance_head = dict(
    type='InstanceHead',
    loss_type='byol',
    loss_weight=1.0,
    projector=dict(
        type='mmpretrain.NonLinearNeck',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True,
        norm_cfg=dict(type='SyncBN'),
    ),
    predictor=dict(
        type='mmpretrain.NonLinearNeck',
        in_channels=256,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=False,
        norm_cfg=dict(type='SyncBN'),
    ),
)
