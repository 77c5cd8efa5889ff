"""Pixel-level head: pair rule, pixel propagation and loss for every level."""

import math
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.models.losses import normalized_pixels
from mmpixpro.models.utils import pair_rule_loss, rows_per_chunk
from mmpixpro.models.utils.chunked import (
    DENSE_BYTES_PER_ELEMENT,
    dense_block_elements,
    dense_fits,
    free_device_memory,
)
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
            always one chunk. Defaults to 2**22 (16 MiB in fp32). The PPM's
            own ``max_elements`` bounds its similarity blocks the same way.
        dense_memory_share (float, optional): On a CUDA device, every level
            runs dense (one chunk, the PPM's too) when the dense blocks of a
            step (:func:`~mmpixpro.models.utils.chunked.dense_block_elements`
            x 16 bytes) fit in this share of the device's free memory, read
            at the first step of each input size; otherwise ``max_elements``
            applies. The decision is logged once. CPU runs always use
            ``max_elements``. None: ``max_elements`` on every device.
            Defaults to 0.5.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        loss: dict = dict(type='PixProLoss'),
        ppm: Optional[dict] = dict(type='PixelPropagationModule', in_channels=256),
        pos_threshold: float = 0.7,
        max_elements: Optional[int] = 1 << 22,
        dense_memory_share: Optional[float] = 0.5,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.max_elements = max_elements
        if dense_memory_share is not None and not 0 < dense_memory_share <= 1:
            raise ValueError(
                'dense_memory_share must be in (0, 1] or None, '
                f'got {dense_memory_share}'
            )
        self.dense_memory_share = dense_memory_share
        self._dense: Dict[int, bool] = {}  # dense block elements -> dense?
        if not pos_threshold > 0:
            raise ValueError(f'pos_threshold (T) must be > 0, got {pos_threshold}')
        self.pos_threshold = pos_threshold
        self.loss_module = MODELS.build(loss)
        self.ppm = MODELS.build(ppm) if ppm is not None else None
        self._ppm_max_elements = getattr(self.ppm, 'max_elements', None)

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
            dict[str, Tensor]: ``loss_pixel`` (added by mmengine to the other
            ``loss*`` terms into the logged and back-propagated ``loss``);
            logged only: ``num_pos_pairs`` (mean number of positive pairs per
            image and level) and ``feature_spread`` (see
            :func:`feature_spread`, target view 1).
        """
        num_levels = len(online1)
        if not (len(online2) == len(target1) == len(target2) == num_levels):
            raise ValueError('all feature sequences need the same number of levels')
        bound = self.fit_to_device(online1, online2)
        losses, num_pairs = [], []
        for o1, o2, t1, t2 in zip(online1, online2, target1, target2):
            n, hw1, hw2 = o1.size(0), o1[0, 0].numel(), o2[0, 0].numel()
            rows12 = rows_per_chunk(n, hw1, hw2, bound)
            rows21 = rows_per_chunk(n, hw2, hw1, bound)
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
            loss_pixel=torch.stack(losses).mean(),
            num_pos_pairs=torch.stack(num_pairs).mean().detach(),
            feature_spread=spread,
        )

    def fit_to_device(self, online1: Levels, online2: Levels) -> Optional[int]:
        """The bound on block elements for this step (``dense_memory_share``).

        On CUDA, decided once per size of the dense blocks; a dense decision
        lifts the PPM's bound too. Elsewhere ``max_elements``.
        """
        x = online1[0]
        limit = self.max_elements
        sizes = [(a[0, 0].numel(), b[0, 0].numel()) for a, b in zip(online1, online2)]
        if (
            x.device.type != 'cuda'
            or self.dense_memory_share is None
            or limit is None
            or all(x.size(0) * max(h1, h2) ** 2 <= limit for h1, h2 in sizes)
        ):  # the configured bound (already dense when every block is within it)
            self._bound_ppm(dense=False)
            return limit
        return self._decide_on_device(x, sizes, limit)

    @torch.compiler.disable
    def _decide_on_device(self, x: Tensor, sizes, limit: int) -> Optional[int]:
        """Dense or ``limit`` on a CUDA device (outside ``torch.compile``: it
        reads the device's free memory)."""
        elements = dense_block_elements(x.size(0), sizes, self.ppm is not None)
        if elements not in self._dense:
            free = free_device_memory(x.device)
            fits = dense_fits(elements, free, self.dense_memory_share)
            if not self._dense or fits != list(self._dense.values())[-1]:
                print_log(
                    dense_decision_line(
                        fits, elements, free, self.dense_memory_share, limit
                    ),
                    logger='current',
                )
            self._dense[elements] = fits
        dense = self._dense[elements]
        self._bound_ppm(dense)
        return None if dense else limit

    def _bound_ppm(self, dense: bool) -> None:
        """The PPM's bound: none when dense, else its configured one."""
        if self.ppm is not None and hasattr(self.ppm, 'max_elements'):
            wanted = None if dense else self._ppm_max_elements
            if self.ppm.max_elements != wanted:
                self.ppm.max_elements = wanted


def dense_decision_line(
    fits: bool, elements: int, free: int, share: float, max_elements: int
) -> str:
    """The log line of :meth:`PixelHead.fit_to_device`'s decision."""
    need = elements * DENSE_BYTES_PER_ELEMENT / 2**30
    head = (
        f'PixelHead: the dense pair / similarity blocks of a step take about '
        f'{need:.2f} GiB; {share:.0%} of the {free / 2**30:.2f} GiB free on the GPU'
    )
    if fits:
        return f'{head} holds them: every level runs dense'
    return (
        f'{head} does not: levels over max_elements={max_elements} run in '
        'checkpointed chunks (exact, recomputed in the backward pass)'
    )
