"""Pixel losses written as row-separable partial sums.

Both pixel losses are sums over the query pixels (rows) of one view, then a
reduction. Writing them as ``partial(cos_rows, mask_rows) -> [N, 2]`` (a sum
and a count per image) plus ``reduce(totals) -> scalar`` lets the head
evaluate the same formula densely, or chunk by chunk of rows with bounded
memory (:func:`mmpixpro.models.utils.chunked_pixel_loss`), with equal results.
"""

import torch.nn.functional as F
from torch import Tensor, nn


def normalized_pixels(x: Tensor) -> Tensor:
    """``[N, C, H, W]`` -> unit-norm pixel features ``[N, C, H*W]``."""
    return F.normalize(x.flatten(2), dim=1)


def pairwise_cosine(pred: Tensor, target: Tensor) -> Tensor:
    """Cosine similarity of every pixel of ``pred`` with every pixel of
    ``target``: ``[N, C, H1, W1] x [N, C, H2, W2] -> [N, H1*W1, H2*W2]``."""
    return normalized_pixels(pred).transpose(1, 2) @ normalized_pixels(target)


class PixelLoss(nn.Module):
    """A pixel loss as ``reduce(sum over row chunks of partial(...))``.

    ``partial`` gives each image's ``[sum, count]``; ``reduce`` turns them
    into a per-image value (:meth:`per_image`) and averages it over the
    images of the batch. An image whose two views share no positive pair
    (count 0) is left out of that mean when ``skip_empty`` is True (the
    paper); otherwise it counts as 0 (the authors' release).

    Args:
        skip_empty (bool): Leave images without positive pairs out of the
            batch mean. Defaults to True.
    """

    def __init__(self, skip_empty: bool = True) -> None:
        super().__init__()
        self.skip_empty = skip_empty

    def partial(self, cos: Tensor, mask: Tensor) -> Tensor:
        """Per-image ``[sum, count]`` ``[N, 2]`` for some rows.

        Args:
            cos (Tensor): Cosine similarities ``[N, R, HW_target]`` of R query
                pixels with all target pixels.
            mask (Tensor): Their positive pairs, bool, same shape.
        """
        raise NotImplementedError

    def per_image(self, totals: Tensor) -> Tensor:
        """The loss of each image ``[N]`` from its totals ``[N, 2]``."""
        raise NotImplementedError

    def reduce(self, totals: Tensor) -> Tensor:
        """The scalar loss from the per-image totals ``[N, 2]``."""
        per_image = self.per_image(totals)
        if self.skip_empty:
            valid = totals[:, 1] > 0
            if not valid.any():
                return totals.sum() * 0.0  # keeps the graph; nothing to learn
            per_image = per_image[valid]
        return per_image.mean()

    def combine(self, loss12: Tensor, loss21: Tensor) -> Tensor:
        """The symmetric loss from its two directions (here: their sum)."""
        return loss12 + loss21

    def forward(self, pred: Tensor, target: Tensor, pos_mask: Tensor) -> Tensor:
        """Loss of one direction.

        Args:
            pred (Tensor): Online features ``[N, C, H1, W1]`` (normalised
                inside).
            target (Tensor): Target features ``[N, C, H2, W2]``.
            pos_mask (Tensor): Positive pairs ``[N, H1*W1, H2*W2]``.

        Returns:
            Tensor: Scalar loss.
        """
        cos = pairwise_cosine(pred, target)  # [N, HW1, HW2]
        if pos_mask.shape != cos.shape:
            shapes = f'{tuple(pos_mask.shape)}, expected {tuple(cos.shape)}'
            raise ValueError(f'pos_mask has shape {shapes}')
        return self.reduce(self.partial(cos, pos_mask.bool()))
