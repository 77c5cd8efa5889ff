"""One conv tower of an FCOS head: the paper's "head network of three
successive convolutional layers", pre-trained once for both towers."""

from typing import Optional, Sequence, Tuple

from mmdet.models.dense_heads import AnchorFreeHead
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.registry import MODELS


@MODELS.register_module()
class FCOSHeadTower(BaseModule):
    """A single tower of mmdet's ``FCOSHead``, shared over levels.

    The other reading of Table 5 "+ head" than :class:`FCOSTowers` (which
    pre-trains the classification and the regression tower, their outputs
    concatenated): one stack of 3x3 convolutions (GN, ReLU) whose output
    feeds the projector. At fine-tuning its weights initialise both towers
    of the detector (``bbox_head.cls_convs`` and ``bbox_head.reg_convs``,
    configs/benchmarks/mmdet/fcos_r50_fpn_gn-head-one-tower_1x_coco_mmdet-
    default.py).

    The convs are built by mmdet's own ``AnchorFreeHead._init_cls_convs``,
    so each layer is the detector's (``convs.N.conv.weight``,
    ``convs.N.gn.weight``, ... here; ``cls_convs.N.*`` / ``reg_convs.N.*``
    there, same shapes).

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
        # mmdet's builder sets ``self.cls_convs``; the tower serves both.
        AnchorFreeHead._init_cls_convs(self)
        self.convs = self.cls_convs
        del self.cls_convs

    @property
    def out_channels(self) -> int:
        return self.feat_channels

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Run the tower on every level: ``[N, feat_channels, H, W]`` each."""
        outs = []
        for x in feats:
            for conv in self.convs:
                x = conv(x)
            outs.append(x)
        return tuple(outs)
