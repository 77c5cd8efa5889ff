"""One conv tower of an FCOS head: the paper's "head network of three
successive convolutional layers", pre-trained once for both towers."""

from typing import Sequence, Tuple

from mmdet.models.dense_heads import AnchorFreeHead
from torch import Tensor

from mmpixpro.registry import MODELS

from .fcos_towers import FCOSTowers


@MODELS.register_module()
class FCOSHeadTower(FCOSTowers):
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

    Args: as :class:`FCOSTowers` (the tower arguments of ``mmdet.FCOSHead``).
    """

    def _build_towers(self) -> None:
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
