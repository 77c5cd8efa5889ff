"""The pixel propagation module (PPM) of PixPro (Eq. 3-4 of the paper)."""

from typing import Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpixpro.models.losses.pixel_loss_base import (
    float32_region,
    normalized_pixels,
    upcast,
)
from mmpixpro.models.utils.chunked import map_row_chunks, rows_per_chunk
from mmpixpro.registry import MODELS

from .dense_projector import conv_bias_before_norm

#: Added to the clipped cosine before a power ``gamma < 1``, whose gradient
#: is unbounded at 0 (the authors' release does the same).
POWER_EPS = 1e-6


def propagation_weights(query: Tensor, feat: Tensor, gamma: float) -> Tensor:
    """``s(i, j) = max(cos(x_i, x_j), 0) ** gamma`` for normalised query
    pixels ``[N, C, R]`` and all pixels ``[N, C, HW]``: ``[N, R, HW]``.

    For ``gamma < 1``: ``(max(cos, 0) + 1e-6) ** gamma`` (finite gradient).
    """
    sim = (query.transpose(1, 2) @ feat).clamp(min=0)
    if gamma < 1:
        sim = sim + POWER_EPS
    return sim.pow(gamma)


def propagate_rows(query: Tensor, feat: Tensor, value: Tensor, gamma: float) -> Tensor:
    """``y_i = sum_j s(i, j) value_j`` for some query pixels ``[N, C, R]``,
    from the normalised features ``feat`` and values ``value`` ``[N, C, HW]``.
    """
    sim = propagation_weights(query, feat, gamma)  # [N, R, HW]
    return value @ sim.transpose(1, 2)  # [N, C, R]


@MODELS.register_module()
class PixelPropagationModule(BaseModule):
    r"""Smooth each pixel's feature with those of similar pixels of its view.

    For the features :math:`x_i` of all pixels ``i`` of one view:

    .. math::

        s(i, j) = \max(\cos(x_i, x_j), 0)^{\gamma}, \qquad
        y_i = \mathrm{norm}\Big(\sum_j s(i, j)\,
                \mathrm{norm}\big(g(x_j)\big)\Big)

    where the sum runs over all pixels ``j`` of the same view, ``i``
    included, and ``g`` is a transform of ``l = num_layers`` layers: 0 is
    the identity, 1 a 1x1 convolution with bias, ``l >= 2`` that many 1x1
    convolutions with BN and ReLU between them (conv-BN-ReLU-conv for 2).

    For ``gamma < 1`` the power's gradient is unbounded at ``s = 0``
    (orthogonal or opposite pixels), so ``1e-6`` is added to the clipped
    cosine before the power, as the authors' release does for ``gamma < 1``.

    Args:
        in_channels (int): Channels ``C`` of the projected features.
        gamma (float): Sharpness exponent of the similarity. Defaults to 2.0.
        num_layers (int): Layers ``l`` of ``g``, >= 0 (the paper's Table 2d
            tries 0 to 3). Defaults to 1.
        norm_cfg (dict): Norm layer between the convolutions of ``g`` for
            ``l >= 2``. Defaults to ``dict(type='BN')``.
        max_elements (int, optional): Bound on the elements of one
            ``[N, rows, HW]`` similarity block; larger maps are propagated in
            checkpointed chunks of rows (exact, memory-bounded). None: always
            dense. Defaults to 2**22 (16 MiB in fp32).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        gamma: float = 2.0,
        num_layers: int = 1,
        norm_cfg: dict = dict(type='BN'),
        max_elements: Optional[int] = 1 << 22,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not gamma > 0:
            raise ValueError(f'gamma must be > 0, got {gamma}')
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f'num_layers (l) must be an int >= 0, got {num_layers!r}')
        self.gamma = gamma
        self.num_layers = num_layers
        self.max_elements = max_elements
        if num_layers == 0:
            self.transform = nn.Identity()
        elif num_layers == 1:
            self.transform = nn.Conv2d(in_channels, in_channels, 1)
        else:  # (l - 1) x conv-BN-ReLU, then a plain conv
            with conv_bias_before_norm():  # the release's MLP2d: a bias
                hidden = [
                    ConvModule(
                        in_channels,
                        in_channels,
                        1,
                        bias=True,
                        norm_cfg=norm_cfg,
                        act_cfg=dict(type='ReLU'),
                    )
                    for _ in range(num_layers - 1)
                ]
            self.transform = nn.Sequential(
                *hidden, nn.Conv2d(in_channels, in_channels, 1)
            )

    def similarity(self, x: Tensor) -> Tensor:
        """``s(i, j)`` for all pixel pairs of each view, ``[N, HW, HW]``."""
        with float32_region(x.device):
            feat = normalized_pixels(upcast(x))  # [N, C, HW]
            return propagation_weights(feat, feat, self.gamma)

    def forward(self, x: Tensor) -> Tensor:
        """Propagate ``x`` ``[N, C, H, W]``; returns ``[N, C, H, W]``.

        ``g`` runs in the autocast type (if any); the similarity, its power
        and the propagated sums in float32, and so does the output.
        """
        n, c, h, w = x.shape
        value = self.transform(x)
        with float32_region(x.device):
            feat = normalized_pixels(upcast(x))  # [N, C, HW]
            value = normalized_pixels(upcast(value))  # [N, C, HW]
            rows = rows_per_chunk(n, h * w, h * w, self.max_elements)
            outs = map_row_chunks(
                propagate_rows,
                h * w,
                rows,
                lambda chunk: (feat[:, :, chunk], feat, value, self.gamma),
            )
            out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
            return F.normalize(out, dim=1).view(n, c, h, w)
