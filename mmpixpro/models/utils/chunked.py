"""Row chunks: the pixel losses and the PPM with bounded memory, exactly.

The pair rule, the PPM and the pixel losses are separable over the query
pixels (rows) of one view, so they are evaluated on chunks of rows whose
``[N, R, HW]`` matrices fit a memory budget. When more than one chunk is
needed, each runs under activation checkpointing: its matrices are rebuilt
in the backward pass instead of being kept, so the peak memory of forward +
backward is that of one chunk. When all rows fit (C5, and most FPN levels at
224 px), there is one chunk and no checkpointing: the dense computation.
Results equal the dense computation up to float summation order.
"""

from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .pixel_pairs import feature_cell_centres, positive_pairs


def rows_per_chunk(
    batch: int, rows: int, cols: int, max_elements: Optional[int]
) -> int:
    """Rows per chunk so that ``batch * rows_chunk * cols <= max_elements``
    (all rows when ``max_elements`` is None or already satisfied)."""
    if max_elements is None or batch * rows * cols <= max_elements:
        return rows
    return max(1, max_elements // (batch * cols))


#: Bytes that the dense blocks of one step keep per element until the
#: backward pass (the matrices, masks and intermediates of the pair rule and
#: the PPM): 8.32 GiB for the 629 M elements of P3 at 448 px, batch 16 (both
#: directions, both views: 14.2 B each; docs/en/notes/performance.md, measured on
#: CPU), rounded up.
DENSE_BYTES_PER_ELEMENT = 16


def dense_block_elements(
    batch: int, sizes: Sequence[Tuple[int, int]], with_ppm: bool = True
) -> int:
    """Elements of the ``[N, HW, HW]`` blocks of one step, all levels.

    For each level of ``HW1`` / ``HW2`` pixels in the two views: the pair
    rule and loss in both directions (``2 N HW1 HW2``) and, with a PPM, its
    similarity in each view (``N HW1^2 + N HW2^2``). Autograd keeps them all
    until the backward pass.
    """
    total = 0
    for hw1, hw2 in sizes:
        total += 2 * hw1 * hw2 + ((hw1 * hw1 + hw2 * hw2) if with_ppm else 0)
    return batch * total


def dense_fits(
    elements: int,
    free_bytes: int,
    share: float,
    bytes_per_element: int = DENSE_BYTES_PER_ELEMENT,
) -> bool:
    """Whether dense blocks of ``elements`` elements fit in ``share`` of
    ``free_bytes``: ``elements * bytes_per_element <= share * free_bytes``."""
    return elements * bytes_per_element <= share * free_bytes


def free_device_memory(device: torch.device) -> int:
    """Bytes a CUDA device can still give this process: free on the device
    plus what PyTorch's caching allocator holds unused."""
    free, _ = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return int(free + cached)


def map_row_chunks(
    fn: Callable[..., Tuple[Tensor, ...]],
    rows: int,
    chunk_rows: int,
    args_of: Callable[[slice], tuple],
) -> List:
    """``fn(*args_of(chunk))`` for every chunk of ``rows`` rows.

    With more than one chunk and gradients on, each call is checkpointed.
    """
    chunks = [slice(s, s + chunk_rows) for s in range(0, rows, chunk_rows)]
    bounded = len(chunks) > 1 and torch.is_grad_enabled()
    if not bounded:
        return [fn(*args_of(chunk)) for chunk in chunks]
    return [checkpoint(fn, *args_of(c), use_reentrant=False) for c in chunks]


def _pair_rows(loss, pred_rows, target, centres_rows, centres, max_diag, threshold):
    """``loss.partial`` and the pair count for some query rows."""
    cos = pred_rows.transpose(1, 2) @ target  # [N, R, HW2]
    mask = positive_pairs(centres_rows, centres, max_diag, threshold)
    return loss.partial(cos, mask), mask.sum(dim=(1, 2)).to(cos.dtype)


def pair_rule_loss(
    loss,
    pred: Tensor,
    target: Tensor,
    coords_pred: Tensor,
    coords_target: Tensor,
    threshold: float,
    chunk_rows: int,
) -> Tuple[Tensor, Tensor]:
    """One direction of a :class:`PixelLoss` with the pair rule (Eq. 1).

    Args:
        loss (PixelLoss): e.g. ``PixProLoss`` or ``PixContrastLoss``.
        pred, target (Tensor): ``[N, C, H1, W1]`` / ``[N, C, H2, W2]``.
        coords_pred, coords_target (Tensor): The views' boxes ``[N, 4]``.
        threshold (float): ``T`` of the pair rule.
        chunk_rows (int): Query pixels per chunk (all of them: one chunk).

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

        def args_of(rows: slice) -> tuple:
            return (
                loss,
                pred_n[:, :, rows],
                target_n,
                centres1[:, rows],
                centres2,
                max_diag,
                threshold,
            )

        parts = map_row_chunks(_pair_rows, pred_n.size(2), chunk_rows, args_of)
        totals = sum(part for part, _ in parts)
        pairs = sum(count for _, count in parts)
        return loss.reduce(totals), pairs
