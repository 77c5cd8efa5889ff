"""The PixPro consistency loss (Eq. 5 of the paper)."""

import torch
from torch import Tensor

from mmpixpro.registry import MODELS

from .pixel_loss_base import PixelLoss


@MODELS.register_module()
class PixProLoss(PixelLoss):
    r"""Negative mean cosine similarity over positive pixel pairs, one way.

    .. math::

        L = -2 \cdot \frac{1}{N} \sum_n
            \frac{\sum_{i,j} m_{n,i,j} \cos(y_{n,i}, z_{n,j})}
                 {\sum_{i,j} m_{n,i,j} + 10^{-6}}

    where ``y`` is the (propagated) online feature of one view, ``z`` the
    target feature of the other and ``m`` the positive-pair mask. The two
    directions are added by the head, so the best total is -4.

    Args:
        skip_empty (bool): Leave images without any positive pair out of the
            batch mean (the paper). False (the reference release, default)
            lets them contribute 0 while still counting in ``N``.
        eps (float): Added to the pair count. Defaults to 1e-6.
    """

    def __init__(self, skip_empty: bool = False, eps: float = 1e-6) -> None:
        super().__init__()
        self.skip_empty = skip_empty
        self.eps = eps

    def partial(self, cos: Tensor, mask: Tensor) -> Tensor:
        mask = mask.to(cos.dtype)
        return torch.stack([(cos * mask).sum(dim=(1, 2)), mask.sum(dim=(1, 2))], dim=1)

    def reduce(self, totals: Tensor) -> Tensor:
        sums, num_pairs = totals[:, 0], totals[:, 1]
        per_image = sums / (num_pairs + self.eps)
        if self.skip_empty:
            valid = num_pairs > 0
            if not valid.any():
                return totals.sum() * 0.0  # keeps the graph; nothing to learn
            per_image = per_image[valid]
        return -2 * per_image.mean()
