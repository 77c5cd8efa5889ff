"""Row chunks: the pixel losses and the PPM with bounded memory, exactly.

The pair rule, the PPM and the pixel losses are separable over the query
pixels (rows) of one view, so they are evaluated on chunks of rows whose
``[N, R, HW]`` matrices hold at most ``max_elements`` elements. When more
than one chunk is needed, each runs under activation checkpointing: its
matrices are rebuilt in the backward pass instead of being kept, so the peak
memory of forward + backward is that of one chunk. When all rows fit, there
is one chunk and no checkpointing: the dense computation. Results equal the
dense computation up to float summation order.

The bound is a setting of the run (``PixelHead``'s ``max_elements``,
recorded in its checkpoints), never a reading of free memory: the same
config computes the same numbers on every rank and after a resume.
"""

from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def rows_per_chunk(
    batch: int, rows: int, cols: int, max_elements: Optional[int]
) -> int:
    """Rows per chunk so that ``batch * rows_chunk * cols <= max_elements``
    (all rows when ``max_elements`` is None or already satisfied)."""
    if max_elements is None or batch * rows * cols <= max_elements:
        return rows
    return max(1, max_elements // (batch * cols))


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
