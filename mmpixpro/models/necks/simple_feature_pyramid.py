"""ViTDet's simple feature pyramid: P2-P6 from a plain ViT's one map."""

import math
from typing import Optional, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpixpro.registry import MODELS


def resolved_norm(norm_cfg: dict) -> dict:
    """``norm_cfg`` with its ``type`` looked up in mmpixpro's registry (and
    its parents: mmpretrain's ``LN2d``, mmcv's ``GN`` / ``BN``), so that the
    norms build the same in any default scope (mmdet's, when a detector
    builds this neck)."""
    kind = norm_cfg['type']
    if isinstance(kind, str):
        kind = MODELS.get(kind)
        if kind is None:
            raise KeyError(f'SimpleFeaturePyramid: unknown norm {norm_cfg["type"]!r}')
    return dict(norm_cfg, type=kind)


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """The simple feature pyramid of ViTDet (Li et al. 2022, `Exploring Plain
    Vision Transformer Backbones for Object Detection
    <https://arxiv.org/abs/2203.16527>`_, Sec. 3): every level from the one
    stride-``s`` map of a plain ViT, no top-down or lateral fusion.

    For each scale factor ``f`` a resampler, then a 1x1 conv + norm and a 3x3
    conv + norm to ``out_channels`` (no conv bias before the norm)::

        f = 4:   deconv 2x2/2 (C -> C/2) - norm - GELU - deconv 2x2/2 (-> C/4)
        f = 2:   deconv 2x2/2 (C -> C/2)
        f = 1:   identity
        f = 1/2: max-pool 2x2/2
        then     lateral_convs[k]: 1x1, -> out_channels, norm
                 fpn_convs[k]:     3x3, out_channels, norm

    and, for ``num_outs`` beyond the scale factors, extra levels by
    ``max_pool2d(kernel 1, stride 2)`` of the last one, as mmdet's ``FPN``
    (``add_extra_convs=False``) and ViTDet's ``LastLevelMaxPool`` add P6.

    Shapes for ViT-B/16 (``C = 768``) on an ``H x W`` image, the defaults
    ``scale_factors=(4, 2, 1, 0.5)``, ``num_outs=5``, ``out_channels=256``::

        in:  ([N, 768, H/16, W/16],)
        out: P2 [N, 256, H/4, W/4], P3 [N, 256, H/8, W/8],
             P4 [N, 256, H/16, W/16], P5 [N, 256, H/32, W/32],
             P6 [N, 256, ceil(H/64), ceil(W/64)]

    Five levels at strides 4-64: the levels, strides and width of mmdet's
    Mask R-CNN FPN, so that detector's RPN and RoI heads take them unchanged.

    Args:
        in_channels (int): Channels ``C`` of the input map.
        out_channels (int): Channels of every output. Defaults to 256.
        scale_factors (Sequence[float]): Size of each level relative to the
            input, each a power of 2 from 4 down to 1/2 (ViTDet's
            ``(4.0, 2.0, 1.0, 0.5)``).
        num_outs (int): Outputs; those beyond ``len(scale_factors)`` are the
            max-pooled extra levels. Defaults to 5 (P2-P6).
        norm_cfg (dict): Norm after every conv and between the two deconvs:
            channel-wise LayerNorm (mmpretrain's ``LN2d``, eps 1e-6), ViTDet's
            ``norm="LN"``; ``GN`` / ``BN`` (mmcv) build as well.
        init_cfg (dict, optional): Initialisation config.

    Attributes:
        level_offsets (tuple[int]): For each output, its level minus the
            input's (``log2`` of the stride ratio): ``(-2, -1, 0, 1, 2)`` for
            the defaults. :class:`~mmpixpro.models.algorithms.PixPro` names
            the outputs with them (P2-P6 above a stride-16 map).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 256,
        scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
        num_outs: int = 5,
        norm_cfg: dict = dict(type='LN2d', eps=1e-6),
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        bad = [f for f in scale_factors if f not in (4.0, 2.0, 1.0, 0.5)]
        if bad or not scale_factors:
            raise ValueError(
                'SimpleFeaturePyramid: scale_factors must be some of '
                f'(4.0, 2.0, 1.0, 0.5), got {tuple(scale_factors)}'
            )
        if num_outs < len(scale_factors):
            raise ValueError(
                f'SimpleFeaturePyramid: num_outs {num_outs} is below the '
                f'{len(scale_factors)} scale factors'
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factors = tuple(float(f) for f in scale_factors)
        self.num_outs = num_outs
        norm = resolved_norm(norm_cfg)
        offsets = [-round(math.log2(f)) for f in self.scale_factors]
        self.level_offsets = tuple(
            offsets + [offsets[-1] + k for k in range(1, num_outs - len(offsets) + 1)]
        )
        self.resamplers = nn.ModuleList()
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for factor in self.scale_factors:
            resampler, channels = self._resampler(factor, in_channels, norm)
            self.resamplers.append(resampler)
            self.lateral_convs.append(
                ConvModule(channels, out_channels, 1, norm_cfg=norm, act_cfg=None)
            )
            self.fpn_convs.append(
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    norm_cfg=norm,
                    act_cfg=None,
                )
            )

    @staticmethod
    def _resampler(factor: float, channels: int, norm: dict) -> Tuple[nn.Module, int]:
        """The module that brings the input to ``factor`` times its size, and
        its output channels."""
        if factor == 4.0:
            _, mid_norm = build_norm_layer(norm, channels // 2)
            return (
                nn.Sequential(
                    nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                    mid_norm,
                    nn.GELU(),
                    nn.ConvTranspose2d(channels // 2, channels // 4, 2, stride=2),
                ),
                channels // 4,
            )
        if factor == 2.0:
            return nn.ConvTranspose2d(
                channels, channels // 2, 2, stride=2
            ), channels // 2
        if factor == 1.0:
            return nn.Identity(), channels
        return nn.MaxPool2d(2, stride=2), channels

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """``inputs``: the backbone's outputs, one map ``[N, C, h, w]``
        (a tuple of one, as a backbone returns it)."""
        if len(inputs) != 1:
            raise ValueError(
                'SimpleFeaturePyramid takes one map (a plain ViT with one '
                f'out_indices), got {len(inputs)}'
            )
        x = inputs[0]
        outs = [
            fpn(lateral(resample(x)))
            for resample, lateral, fpn in zip(
                self.resamplers, self.lateral_convs, self.fpn_convs
            )
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
