"""The dense (per-pixel) projector of PixPro."""

import warnings
from contextlib import contextmanager
from typing import Optional, Sequence, Tuple

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpixpro.registry import MODELS


@contextmanager
def conv_bias_before_norm():
    """Build a ``ConvModule`` with a bias before its BN without mmcv's
    "Unnecessary conv bias" warning: the bias is the release's (its MLP2d,
    ``linear1.bias`` in its checkpoints and ``...0.conv.bias`` in ours), kept
    so that every checkpoint loads as it is."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Unnecessary conv bias before')
        yield


@MODELS.register_module()
class DenseProjector(BaseModule):
    """conv1x1 (C -> hidden, bias) - BN - ReLU - conv1x1 (hidden -> out, bias).

    The same projector is applied to every level of the input tuple, so one
    set of weights serves C5 alone or all FPN levels.

    Args:
        in_channels (int): Channels of the input maps (2048 for ResNet-50 C5,
            256 for FPN levels).
        hid_channels (int): Hidden channels. Defaults to 4096.
        out_channels (int): Output channels. Defaults to 256.
        norm_cfg (dict): Norm of the hidden layer. Defaults to
            ``dict(type='BN')``; pre-training configs use SyncBN.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        hid_channels: int = 4096,
        out_channels: int = 256,
        norm_cfg: dict = dict(type='BN'),
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        with conv_bias_before_norm():
            hidden = ConvModule(
                in_channels,
                hid_channels,
                1,
                bias=True,
                norm_cfg=norm_cfg,
                act_cfg=dict(type='ReLU'),
            )
        self.projector = nn.Sequential(hidden, nn.Conv2d(hid_channels, out_channels, 1))

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Project each map of ``inputs`` (``[N, C, H, W]`` each)."""
        for i, x in enumerate(inputs):
            if x.size(1) != self.in_channels:
                raise ValueError(
                    f'DenseProjector expects {self.in_channels} input '
                    f'channels, level {i} has {x.size(1)}'
                )
        return tuple(self.projector(x) for x in inputs)
