"""Pixel losses written as row-separable partial sums.

Both pixel losses are sums over the query pixels (rows) of one view, then a
reduction. Writing them as ``partial(cos_rows, mask_rows) -> [N, 2]`` (a sum
and a count per image) plus ``reduce(totals) -> scalar`` lets the head
evaluate the same formula densely, or chunk by chunk of rows with bounded
memory (:func:`mmpixpro.models.utils.pair_rule_loss`), with equal results.

Under mixed precision (fp16 / bf16 autocast) the pixel losses compute in
float32 (:func:`float32_region`): a PixPro pair count at P3 reaches
``784 * 784`` and a PixContrast row at tau = 0.1 sums up to 784 terms of
``exp(cos / 0.1) <= 22026``, both past fp16's 65504; the authors' release
(apex O1) also kept sums and exponentials in float32.
"""

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def upcast(x: Tensor) -> Tensor:
    """``x`` in float32 if it is in a 16-bit float type (float64 stays)."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


@contextmanager
def float32_region(device: torch.device):
    """Autocast off on ``device`` inside (callers :func:`upcast` their
    inputs), so every op of the region computes in float32 (or float64)."""
    if torch.amp.is_autocast_available(device.type):
        with torch.autocast(device_type=device.type, enabled=False):
            yield
    else:
        yield


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
        """The scalar loss from the per-image totals ``[N, 2]``.

        With ``skip_empty``: ``sum_{n valid} l_n / max(#valid, 1)``, written
        without data-dependent branches or indexing (``torch.compile`` keeps
        it in one graph); 0, with the graph kept, when no image has a pair.
        """
        per_image = self.per_image(totals)
        if not self.skip_empty:
            return per_image.mean()
        valid = totals[:, 1] > 0
        kept = torch.where(valid, per_image, torch.zeros_like(per_image))
        return kept.sum() / valid.sum().clamp(min=1)

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
            Tensor: Scalar loss, computed in float32 (also under autocast).
        """
        with float32_region(pred.device):
            cos = pairwise_cosine(upcast(pred), upcast(target))  # [N, HW1, HW2]
            if pos_mask.shape != cos.shape:
                shapes = f'{tuple(pos_mask.shape)}, expected {tuple(cos.shape)}'
                raise ValueError(f'pos_mask has shape {shapes}')
            return self.reduce(self.partial(cos, pos_mask.bool()))
