"""The PixContrast loss: pixel-level InfoNCE (Eq. 2 of the paper)."""

import torch
from torch import Tensor, nn

from mmpixpro.registry import MODELS

from .pixpro_loss import pairwise_cosine


@MODELS.register_module()
class PixContrastLoss(nn.Module):
    r"""InfoNCE over pixels, one way, with every positive pair in the numerator.

    For a pixel ``i`` of one view with at least one positive pixel in the
    other view:

    .. math::

        L_i = -\log \frac{\sum_{j \in pos(i)} e^{\cos(x_i, x'_j) / \tau}}
                         {\sum_{j \in pos(i)} e^{\cos(x_i, x'_j) / \tau}
                          + \sum_{k \in neg(i)} e^{\cos(x_i, x'_k) / \tau}}

    where the negatives are all other pixels of the other view. The loss is
    the mean of :math:`L_i` over all such pixels of the batch; the head adds
    the two directions.

    Args:
        temperature (float): ``tau``. Defaults to 0.3.
    """

    def __init__(self, temperature: float = 0.3) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def forward(self, pred: Tensor, target: Tensor, pos_mask: Tensor) -> Tensor:
        """Loss of one direction.

        Args:
            pred (Tensor): Online features ``[N, C, H1, W1]`` (queries).
            target (Tensor): Target features ``[N, C, H2, W2]`` (keys).
            pos_mask (Tensor): Positive pairs ``[N, H1*W1, H2*W2]``.

        Returns:
            Tensor: Scalar loss.
        """
        logits = pairwise_cosine(pred, target) / self.temperature
        if pos_mask.shape != logits.shape:
            raise ValueError(
                f'pos_mask has shape {tuple(pos_mask.shape)}, '
                f'expected {tuple(logits.shape)}'
            )
        pos_mask = pos_mask.bool()
        log_all = torch.logsumexp(logits, dim=2)  # [N, HW1]
        log_pos = torch.logsumexp(
            logits.masked_fill(~pos_mask, float('-inf')), dim=2
        )  # [N, HW1]; -inf where pixel i has no positive
        has_pos = pos_mask.any(dim=2)
        if not has_pos.any():
            return logits.sum() * 0.0  # keeps the graph; nothing to learn
        return (log_all - log_pos)[has_pos].mean()
