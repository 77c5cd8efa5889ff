"""The conv towers of an FCOS head, for pre-training with mmdet's names."""

from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import AnchorFreeHead
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.registry import MODELS


@MODELS.register_module()
class FCOSTowers(BaseModule):
    """The classification and regression towers of mmdet's ``FCOSHead``.

    Only the stacked 3x3 convolutions, shared over levels, without the
    prediction layers (``conv_cls``, ``conv_reg``, ``conv_centerness``,
    ``scales``). The towers are built by mmdet's own
    ``AnchorFreeHead._init_cls_convs`` / ``_init_reg_convs``, so parameter
    names (``cls_convs.N.conv.weight``, ``cls_convs.N.gn.weight``, ...) and
    shapes are those of the detector: a checkpoint loads into an mmdet FCOS
    with ``load_from`` and no conversion.

    The output of a level is the two towers' features concatenated on the
    channel axis, ``[N, 2 * feat_channels, H, W]``, so the pixel loss trains
    both towers.

    Args: as the tower arguments of ``mmdet.FCOSHead``: ``in_channels``,
        ``feat_channels`` (256), ``stacked_convs`` (4), ``conv_cfg``,
        ``norm_cfg`` (GN, 32 groups), ``conv_bias`` ('auto'),
        ``dcn_on_last_conv`` (False); ``init_cfg`` defaults to mmdet's
        Normal(std=0.01) on convolutions.
    """

    def __init__(
        self,
        in_channels: int,
        feat_channels: int = 256,
        stacked_convs: int = 4,
        conv_cfg: Optional[dict] = None,
        norm_cfg: Optional[dict] = dict(type='GN', num_groups=32, requires_grad=True),
        conv_bias='auto',
        dcn_on_last_conv: bool = False,
        init_cfg: Optional[dict] = dict(type='Normal', layer='Conv2d', std=0.01),
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if stacked_convs < 1:
            raise ValueError(f'stacked_convs must be >= 1, got {stacked_convs}')
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.conv_bias = conv_bias
        self.dcn_on_last_conv = dcn_on_last_conv
        self._build_towers()

    def _build_towers(self) -> None:
        """mmdet's own builders, called on this module, set the attributes
        ``cls_convs`` and ``reg_convs`` exactly as in the detector."""
        AnchorFreeHead._init_cls_convs(self)
        AnchorFreeHead._init_reg_convs(self)

    @property
    def out_channels(self) -> int:
        return 2 * self.feat_channels

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Run both towers on every level; concatenate their outputs."""
        outs = []
        for x in feats:
            cls_feat, reg_feat = x, x
            for conv in self.cls_convs:
                cls_feat = conv(cls_feat)
            for conv in self.reg_convs:
                reg_feat = conv(reg_feat)
            outs.append(torch.cat([cls_feat, reg_feat], dim=1))
        return tuple(outs)
