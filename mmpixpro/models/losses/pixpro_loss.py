"""The PixPro consistency loss (Eq. 5 of the paper)."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpixpro.registry import MODELS


def pairwise_cosine(pred: Tensor, target: Tensor) -> Tensor:
    """Cosine similarity of every pixel of ``pred`` with every pixel of
    ``target``: ``[N, C, H1, W1] x [N, C, H2, W2] -> [N, H1*W1, H2*W2]``."""
    pred = F.normalize(pred.flatten(2), dim=1)  # [N, C, HW1]
    target = F.normalize(target.flatten(2), dim=1)  # [N, C, HW2]
    return torch.bmm(pred.transpose(1, 2), target)


@MODELS.register_module()
class PixProLoss(nn.Module):
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

    def forward(self, pred: Tensor, target: Tensor, pos_mask: Tensor) -> Tensor:
        """Loss of one direction.

        Args:
            pred (Tensor): Online features ``[N, C, H1, W1]``.
            target (Tensor): Target features ``[N, C, H2, W2]``.
            pos_mask (Tensor): Positive pairs ``[N, H1*W1, H2*W2]``.

        Returns:
            Tensor: Scalar loss.
        """
        cos = pairwise_cosine(pred, target)  # [N, HW1, HW2]
        if pos_mask.shape != cos.shape:
            raise ValueError(
                f'pos_mask has shape {tuple(pos_mask.shape)}, '
                f'expected {tuple(cos.shape)}'
            )
        mask = pos_mask.to(cos.dtype)
        num_pairs = mask.sum(dim=(1, 2))  # [N]
        per_image = (cos * mask).sum(dim=(1, 2)) / (num_pairs + self.eps)
        if self.skip_empty:
            valid = num_pairs > 0
            if not valid.any():
                return cos.sum() * 0.0  # keeps the graph; nothing to learn
            per_image = per_image[valid]
        return -2 * per_image.mean()
