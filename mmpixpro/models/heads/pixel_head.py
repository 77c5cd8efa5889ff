"""Pixel-level head: pair rule, pixel propagation and loss for every level."""

import math
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.models.losses import normalized_pixels
from mmpixpro.models.utils import pair_rule_loss, rows_per_chunk
from mmpixpro.registry import MODELS

Levels = Sequence[Tensor]


def feature_spread(x: Tensor) -> Tensor:
    """How much normalised pixel features vary within each image.

    ``sqrt(C) * mean_{n, c} std_pixels(normalize(x)[n, c])``: about 1 for
    features spread over the sphere, 0 when every pixel of an image has the
    same feature (a collapse that drives the PixPro loss to -4).

    Args:
        x (Tensor): ``[N, C, H, W]``.
    """
    if x.shape[-2] * x.shape[-1] < 2:
        return x.new_zeros(())
    feat = normalized_pixels(x.detach().float())  # [N, C, HW]
    return feat.std(dim=2).mean() * math.sqrt(x.size(1))


@MODELS.register_module()
class PixelHead(BaseModule):
    """Symmetric pixel-consistency loss between two views, over all levels.

    For each output level, the positive pairs of the two views are computed
    once from their crop boxes and that level's feature size. The online
    features of each view pass through the pixel propagation module and are
    compared with the target features of the other view::

        L_level = combine(loss(ppm(x1), z2, M), loss(ppm(x2), z1, M^T))
        L = mean over levels of L_level

    where ``combine`` is the loss's own: the sum for PixPro (best -4), the
    mean for PixContrast, as the paper states each.

    The PPM's weights are shared by all levels.

    Args:
        loss (dict): The pixel loss, called once per direction as
            ``loss(pred, target, pos_mask)``. Defaults to
            ``dict(type='PixProLoss')``.
        ppm (dict, optional): The pixel propagation module applied to the
            online features. None feeds the projected features directly.
        pos_threshold (float): ``T`` of the pair rule. Defaults to 0.7.
        max_elements (int, optional): Bound on the elements of one
            ``[N, rows, HW]`` pair / similarity block. Levels whose
            ``N x HW1 x HW2`` exceeds it (e.g. P3 of 448 px inputs) are
            evaluated in checkpointed chunks of rows, exactly and with memory
            bounded by one chunk; smaller ones in one chunk, densely (the
            same code, :func:`mmpixpro.models.utils.pair_rule_loss`). None:
            always one chunk. Defaults to 2**22 (16 MiB in fp32).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        loss: dict = dict(type='PixProLoss'),
        ppm: Optional[dict] = dict(type='PixelPropagationModule', in_channels=256),
        pos_threshold: float = 0.7,
        max_elements: Optional[int] = 1 << 22,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.max_elements = max_elements
        if not pos_threshold > 0:
            raise ValueError(f'pos_threshold (T) must be > 0, got {pos_threshold}')
        self.pos_threshold = pos_threshold
        self.loss_module = MODELS.build(loss)
        self.ppm = MODELS.build(ppm) if ppm is not None else None

    def propagate(self, x: Tensor) -> Tensor:
        """The online branch's prediction from its projected features."""
        return self.ppm(x) if self.ppm is not None else x

    def loss(
        self,
        online1: Levels,
        online2: Levels,
        target1: Levels,
        target2: Levels,
        coords1: Tensor,
        coords2: Tensor,
    ) -> Dict[str, Tensor]:
        """Loss of the two views.

        Args:
            online1, online2 (Sequence[Tensor]): Online projected features of
                view 1 / view 2, one ``[N, C, H, W]`` map per level.
            target1, target2 (Sequence[Tensor]): Target (momentum) projected
                features of view 1 / view 2, same levels.
            coords1, coords2 (Tensor): Crop boxes ``[N, 4]`` of the views.

        Returns:
            dict[str, Tensor]: ``loss``; logged only: ``num_pos_pairs`` (mean
            number of positive pairs per image and level) and
            ``feature_spread`` (see :func:`feature_spread`, target view 1).
        """
        num_levels = len(online1)
        if not (len(online2) == len(target1) == len(target2) == num_levels):
            raise ValueError('all feature sequences need the same number of levels')
        losses, num_pairs = [], []
        for o1, o2, t1, t2 in zip(online1, online2, target1, target2):
            n, hw1, hw2 = o1.size(0), o1[0, 0].numel(), o2[0, 0].numel()
            rows12 = rows_per_chunk(n, hw1, hw2, self.max_elements)
            rows21 = rows_per_chunk(n, hw2, hw1, self.max_elements)
            thr = self.pos_threshold
            loss12, pairs = pair_rule_loss(
                self.loss_module, self.propagate(o1), t2, coords1, coords2, thr, rows12
            )
            loss21, _ = pair_rule_loss(
                self.loss_module, self.propagate(o2), t1, coords2, coords1, thr, rows21
            )
            losses.append(self.loss_module.combine(loss12, loss21))
            num_pairs.append(pairs.mean())
        spread = torch.stack([feature_spread(t) for t in target1]).mean()
        return dict(
            loss=torch.stack(losses).mean(),
            num_pos_pairs=torch.stack(num_pairs).mean().detach(),
            feature_spread=spread,
        )
