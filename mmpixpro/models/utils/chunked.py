"""Memory-bounded, exact evaluation of the pixel losses for large maps.

The pixel losses and the pair rule are separable over the query pixels
(rows) of one view, so they can be evaluated on chunks of rows whose
``[N, R, HW]`` matrices fit a memory budget. Each chunk runs under
activation checkpointing: its matrices are rebuilt in the backward pass
instead of being kept, so the peak memory of forward + backward is that of
one chunk. Results equal the dense computation up to float summation order.
"""

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .pixel_pairs import feature_cell_centres, normalised_distance


def rows_per_chunk(
    batch: int, rows: int, cols: int, max_elements: Optional[int]
) -> int:
    """Rows per chunk so that ``batch * rows_chunk * cols <= max_elements``
    (all rows when ``max_elements`` is None or already satisfied)."""
    if max_elements is None or batch * rows * cols <= max_elements:
        return rows
    return max(1, max_elements // (batch * cols))


def _pair_rows(loss, pred_rows, target, centres_rows, centres, max_diag, threshold):
    """``loss.partial`` and the pair count for some query rows."""
    cos = pred_rows.transpose(1, 2) @ target  # [N, R, HW2]
    mask = normalised_distance(centres_rows, centres, max_diag) < threshold
    return loss.partial(cos, mask), mask.sum(dim=(1, 2)).to(cos.dtype)


def chunked_pixel_loss(
    loss,
    pred: Tensor,
    target: Tensor,
    coords_pred: Tensor,
    coords_target: Tensor,
    threshold: float,
    chunk_rows: int,
) -> Tuple[Tensor, Tensor]:
    """One direction of a :class:`PixelLoss`, with the pair rule, by chunks.

    Args:
        loss (PixelLoss): e.g. ``PixProLoss`` or ``PixContrastLoss``.
        pred, target (Tensor): ``[N, C, H1, W1]`` / ``[N, C, H2, W2]``.
        coords_pred, coords_target (Tensor): The views' boxes ``[N, 4]``.
        threshold (float): ``T`` of the pair rule.
        chunk_rows (int): Query pixels per chunk.

    Returns:
        tuple[Tensor, Tensor]: the scalar loss (float32, also under autocast)
        and the number of positive pairs per image ``[N]``.
    """
    from mmpixpro.models.losses.pixel_loss_base import (
        float32_region,
        normalized_pixels,
        upcast,
    )

    with float32_region(pred.device):  # checkpoint re-enters the same state
        pred_n = normalized_pixels(upcast(pred))
        target_n = normalized_pixels(upcast(target))
        centres1, diag1 = feature_cell_centres(coords_pred, pred.shape[-2:])
        centres2, diag2 = feature_cell_centres(coords_target, target.shape[-2:])
        max_diag = torch.maximum(diag1, diag2)
        totals, pairs = 0, 0
        for start in range(0, pred_n.size(2), chunk_rows):
            rows = slice(start, start + chunk_rows)
            args = (
                loss,
                pred_n[:, :, rows],
                target_n,
                centres1[:, rows],
                centres2,
                max_diag,
                threshold,
            )
            if torch.is_grad_enabled() and pred_n.requires_grad:
                part, count = checkpoint(_pair_rows, *args, use_reentrant=False)
            else:
                part, count = _pair_rows(*args)
            totals, pairs = totals + part, pairs + count
        return loss.reduce(totals), pairs


#: Added to the clipped cosine before a power ``gamma < 1``, whose gradient
#: is unbounded at 0 (the authors' release does the same).
POWER_EPS = 1e-6


def propagation_weights(query: Tensor, feat: Tensor, gamma: float) -> Tensor:
    """``s(i, j) = max(cos(x_i, x_j), 0) ** gamma`` for normalised query
    pixels ``[N, C, R]`` and all pixels ``[N, C, HW]``: ``[N, R, HW]``.

    For ``gamma < 1``: ``(max(cos, 0) + 1e-6) ** gamma`` (finite gradient).
    """
    sim = (query.transpose(1, 2) @ feat).clamp(min=0)
    if gamma < 1:
        sim = sim + POWER_EPS
    return sim.pow(gamma)


def propagate_rows(query: Tensor, feat: Tensor, value: Tensor, gamma: float) -> Tensor:
    """PPM for some query pixels: ``[N, C, R]`` from the normalised features
    ``feat`` ``[N, C, HW]`` and values ``value`` ``[N, C, HW]``."""
    sim = propagation_weights(query, feat, gamma)  # [N, R, HW]
    return value @ sim.transpose(1, 2)  # [N, C, R]


def chunked_propagate(
    feat: Tensor, value: Tensor, gamma: float, chunk_rows: int
) -> Tensor:
    """:func:`propagate_rows` over all pixels, chunk by chunk, checkpointed."""
    outs = []
    for start in range(0, feat.size(2), chunk_rows):
        query = feat[:, :, start : start + chunk_rows]
        if torch.is_grad_enabled() and (feat.requires_grad or value.requires_grad):
            outs.append(
                checkpoint(
                    propagate_rows, query, feat, value, gamma, use_reentrant=False
                )
            )
        else:
            outs.append(propagate_rows(query, feat, value, gamma))
    return torch.cat(outs, dim=2)
