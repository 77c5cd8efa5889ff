"""The PixContrast loss: pixel-level InfoNCE (Eq. 2 of the paper)."""

import torch
from torch import Tensor

from mmpixpro.registry import MODELS

from .pixel_loss_base import PixelLoss, upcast


@MODELS.register_module()
class PixContrastLoss(PixelLoss):
    r"""InfoNCE over pixels with every positive pair in the numerator.

    For a pixel ``i`` of one view with at least one positive pixel in the
    other view:

    .. math::

        L_i = -\log \frac{\sum_{j \in pos(i)} e^{\cos(x_i, x'_j) / \tau}}
                         {\sum_{j \in pos(i)} e^{\cos(x_i, x'_j) / \tau}
                          + \sum_{k \in neg(i)} e^{\cos(x_i, x'_k) / \tau}}

    where the negatives are all other pixels of the other view. As the paper
    states it, :math:`L_i` is averaged over the pixels of each image that
    have a positive (those in the intersection of the two views), then over
    the images of the batch. The loss is the mean of the two directions (the
    paper), times ``loss_weight``.

    Args:
        temperature (float): ``tau``. Defaults to 0.3.
        skip_empty (bool): See :class:`PixelLoss`. Defaults to True.
        loss_weight (float): Factor of the loss. Defaults to 1.0.
    """

    def __init__(
        self,
        temperature: float = 0.3,
        skip_empty: bool = True,
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__(skip_empty=skip_empty, loss_weight=loss_weight)
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def _row_totals(self, cos: Tensor, mask: Tensor) -> Tensor:
        logits = upcast(cos) / self.temperature  # exponentials in float32
        log_all = torch.logsumexp(logits, dim=2)  # [N, R]
        has_pos = mask.any(dim=2)  # [N, R]
        # Rows without a positive are left out below; give them finite values
        # (all keys) so that no -inf / NaN reaches the gradient.
        pos_only = logits.masked_fill(~mask, float('-inf'))
        pos_only = torch.where(has_pos[..., None], pos_only, logits)
        log_pos = torch.logsumexp(pos_only, dim=2)
        row_loss = torch.where(has_pos, log_all - log_pos, torch.zeros_like(log_all))
        return torch.stack(
            [row_loss.sum(dim=1), has_pos.to(cos.dtype).sum(dim=1)], dim=1
        )

    def _per_image(self, totals: Tensor) -> Tensor:
        # mean over the image's pixels that have a positive (0 if none)
        return totals[:, 0] / totals[:, 1].clamp(min=1)

    def _symmetric(self, loss12: Tensor, loss21: Tensor) -> Tensor:
        """The paper averages the two directions of PixContrast."""
        return (loss12 + loss21) / 2
