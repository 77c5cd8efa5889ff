"""The PixPro consistency loss (Eq. 5 of the paper)."""

import torch
from torch import Tensor

from mmpixpro.registry import MODELS

from .pixel_loss_base import PixelLoss, upcast


@MODELS.register_module()
class PixProLoss(PixelLoss):
    r"""Negative mean cosine similarity over positive pixel pairs, both ways.

    One direction:

    .. math::

        \ell = -2 \cdot \frac{1}{|B|} \sum_{n \in B}
            \frac{\sum_{i,j} m_{n,i,j} \cos(y_{n,i}, z_{n,j})}
                 {\sum_{i,j} m_{n,i,j} + 10^{-6}}

    where ``y`` is the (propagated) online feature of one view, ``z`` the
    target feature of the other and ``m`` the positive-pair mask; ``B`` the
    images with at least one pair (``skip_empty=True``, the paper) or all
    images (False, the authors' release). The loss adds the two directions
    (:class:`PixelLoss`), so the best value is ``-4 * loss_weight``.

    Args:
        skip_empty (bool): See :class:`PixelLoss`. Defaults to True.
        eps (float): Added to the pair count. Defaults to 1e-6.
        loss_weight (float): Factor of the loss. Defaults to 1.0.
    """

    def __init__(
        self, skip_empty: bool = True, eps: float = 1e-6, loss_weight: float = 1.0
    ) -> None:
        super().__init__(skip_empty=skip_empty, loss_weight=loss_weight)
        self.eps = eps

    def _row_totals(self, cos: Tensor, mask: Tensor) -> Tensor:
        cos = upcast(cos)  # pair sums and counts in float32 (fp16 overflows)
        mask = mask.to(cos.dtype)
        return torch.stack([(cos * mask).sum(dim=(1, 2)), mask.sum(dim=(1, 2))], dim=1)

    def _per_image(self, totals: Tensor) -> Tensor:
        return -2 * totals[:, 0] / (totals[:, 1] + self.eps)
