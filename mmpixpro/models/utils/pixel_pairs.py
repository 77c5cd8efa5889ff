"""The positive-pair rule of PixPro (Eq. 1 of the paper)."""

from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor


def feature_cell_centres(coords: Tensor, shape: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Centres of the feature-map cells of a view, in original-image units.

    A view's box ``[x1, y1, x2, y2]`` (normalised per axis; ``x1 > x2`` when
    the view was flipped) is split into an ``H x W`` grid of bins of size
    ``bw = (x2 - x1) / W`` and ``bh = (y2 - y1) / H``. Cell ``(r, c)`` has
    its centre at ``(x1 + (c + 0.5) bw, y1 + (r + 0.5) bh)``.

    Args:
        coords (Tensor): Boxes ``[N, 4]``.
        shape (Sequence[int]): ``(H, W)`` of the feature map.

    Returns:
        tuple[Tensor, Tensor]: centres ``[N, H*W, 2]`` (x, y), cells in
        row-major order as ``feature.flatten(2)``; and the bin diagonal
        ``sqrt(bw^2 + bh^2)`` of each view ``[N]``.
    """
    if coords.dim() != 2 or coords.size(1) != 4:
        raise ValueError(f'coords must have shape [N, 4], got {tuple(coords.shape)}')
    h, w = int(shape[0]), int(shape[1])
    if h <= 0 or w <= 0:
        raise ValueError(f'feature shape must be positive, got {(h, w)}')
    coords = coords.float()
    bin_w = (coords[:, 2] - coords[:, 0]) / w  # [N]
    bin_h = (coords[:, 3] - coords[:, 1]) / h  # [N]
    steps_x = torch.arange(w, device=coords.device, dtype=coords.dtype) + 0.5
    steps_y = torch.arange(h, device=coords.device, dtype=coords.dtype) + 0.5
    centre_x = coords[:, 0, None] + steps_x[None] * bin_w[:, None]  # [N, W]
    centre_y = coords[:, 1, None] + steps_y[None] * bin_h[:, None]  # [N, H]
    centres = torch.stack(
        [
            centre_x[:, None, :].expand(-1, h, -1),
            centre_y[:, :, None].expand(-1, -1, w),
        ],
        dim=-1,
    ).reshape(coords.size(0), h * w, 2)  # [N, H*W, 2]
    diag = torch.sqrt(bin_w**2 + bin_h**2)  # [N]
    return centres, diag


def check_same_shape(coords1: Tensor, coords2: Tensor) -> None:
    if coords1.shape != coords2.shape:
        raise ValueError(
            'coords1 and coords2 must have the same shape, got '
            f'{tuple(coords1.shape)} and {tuple(coords2.shape)}'
        )


def normalised_distance(centres1: Tensor, centres2: Tensor, max_diag: Tensor) -> Tensor:
    """``||c1_i - c2_j|| / max_diag``: ``[N, R, 2] x [N, HW, 2] -> [N, R, HW]``.

    Explicit differences rather than ``torch.cdist``: cdist's matmul path
    loses precision for points this close, which would flip pairs at the
    threshold. The two coordinates are separate ``[N, R, HW]`` differences,
    not one ``[..., 2]`` tensor reduced over its last axis: the same numbers,
    less time (docs/en/notes/performance.md).
    """
    dx = centres1[:, :, None, 0] - centres2[:, None, :, 0]  # [N, R, HW]
    dy = centres1[:, :, None, 1] - centres2[:, None, :, 1]
    return (dx * dx + dy * dy).sqrt() / max_diag[:, None, None]


def positive_pairs(
    centres1: Tensor, centres2: Tensor, max_diag: Tensor, threshold: float
) -> Tensor:
    """The pair rule on cell centres: ``||c1_i - c2_j|| / max_diag < T``.

    ``[N, R, 2] x [N, HW, 2] -> bool [N, R, HW]``: for all cells of view 1 or
    a chunk of ``R`` of them (the memory-bounded losses).
    """
    return normalised_distance(centres1, centres2, max_diag) < threshold


def pixel_pair_mask(
    coords1: Tensor,
    coords2: Tensor,
    shape1: Sequence[int],
    shape2: Sequence[int],
    threshold: float = 0.7,
) -> Tensor:
    """Positive pixel pairs between two views (Eq. 1 of PixPro).

    Cell ``i`` of view 1 and cell ``j`` of view 2 form a positive pair iff
    their centres, mapped to the original image, are closer than
    ``threshold`` times the larger bin diagonal of the two views::

        ||c1_i - c2_j|| / max(diag1, diag2) < T

    Args:
        coords1 (Tensor): Boxes of view 1 in the original image, ``[N, 4]``
            as ``[x1, y1, x2, y2]`` normalised per axis by ``(W-1, H-1)``; a
            horizontally flipped view has ``x1`` and ``x2`` swapped.
        coords2 (Tensor): Boxes of view 2, ``[N, 4]``.
        shape1 (Sequence[int]): ``(H1, W1)`` of view 1's feature map.
        shape2 (Sequence[int]): ``(H2, W2)`` of view 2's feature map.
        threshold (float): ``T``; strict inequality. Defaults to 0.7.

    Returns:
        Tensor: bool ``[N, H1*W1, H2*W2]``, cells in row-major order.
    """
    return PixelPairs(coords1, coords2, shape1, shape2, threshold).rows()


class PixelPairs:
    """The pair rule between two views, evaluated for any rows on demand.

    The mask of :func:`pixel_pair_mask` without building it whole:
    :meth:`rows` gives the ``[N, R, HW2]`` block of some query cells of view
    1, so the pixel losses can walk the ``[N, HW1, HW2]`` mask in row chunks
    of bounded size. :meth:`transposed` is the rule from view 2 to view 1
    (the transposed mask: the rule is symmetric in the two views).

    Args:
        coords1, coords2 (Tensor): The views' boxes ``[N, 4]`` (see
            :func:`pixel_pair_mask`).
        shape1, shape2 (Sequence[int]): ``(H, W)`` of each view's features.
        threshold (float): ``T``; strict inequality.
    """

    def __init__(
        self,
        coords1: Tensor,
        coords2: Tensor,
        shape1: Sequence[int],
        shape2: Sequence[int],
        threshold: float,
    ) -> None:
        if not threshold > 0:
            raise ValueError(f'threshold (T) must be > 0, got {threshold}')
        check_same_shape(coords1, coords2)
        self.centres1, diag1 = feature_cell_centres(coords1, shape1)
        self.centres2, diag2 = feature_cell_centres(coords2, shape2)
        self.max_diag = torch.maximum(diag1, diag2)  # [N]
        self.threshold = threshold

    @property
    def shape(self) -> Tuple[int, int, int]:
        """``(N, HW1, HW2)``: the shape of the whole mask."""
        return (*self.centres1.shape[:2], self.centres2.size(1))

    def transposed(self) -> 'PixelPairs':
        """The rule from view 2 to view 1."""
        other = PixelPairs.__new__(PixelPairs)
        other.centres1, other.centres2 = self.centres2, self.centres1
        other.max_diag, other.threshold = self.max_diag, self.threshold
        return other

    def row_args(self, rows: slice) -> tuple:
        """The arguments of :func:`positive_pairs` for the query cells
        ``rows``: tensors and a float, so that a checkpointed chunk can take
        them and rebuild its mask in the backward pass."""
        return (self.centres1[:, rows], self.centres2, self.max_diag, self.threshold)

    @staticmethod
    def mask_of(*row_args) -> Tensor:
        """The bool ``[N, R, HW2]`` block of :meth:`row_args`."""
        return positive_pairs(*row_args)

    def rows(self, rows: slice = slice(None)) -> Tensor:
        """Bool ``[N, R, HW2]``: the pairs of the query cells ``rows``."""
        return self.mask_of(*self.row_args(rows))

    def count(self, max_elements: Optional[int] = None) -> Tensor:
        """Positive pairs per image ``[N]`` (float32, no gradient), counted
        in row chunks of at most ``max_elements`` elements (None: at once)."""
        from .chunked import rows_per_chunk

        n, hw1, hw2 = self.shape
        step = rows_per_chunk(n, hw1, hw2, max_elements)
        with torch.no_grad():  # a context, not a decorator: torch.compile
            counts = [  # traces it in the caller's graph
                self.rows(slice(s, s + step)).sum(dim=(1, 2))
                for s in range(0, hw1, step)
            ]
            return torch.stack(counts).sum(dim=0).float()


class MaskPairs:
    """A given bool mask ``[N, HW1, HW2]`` with the interface of
    :class:`PixelPairs` (hand-made masks of tests and examples)."""

    def __init__(self, mask: Tensor) -> None:
        if mask.dim() != 3:
            raise ValueError(f'pos_mask must be [N, HW1, HW2], got {tuple(mask.shape)}')
        self.mask = mask.bool()

    @property
    def shape(self) -> Tuple[int, int, int]:
        return tuple(self.mask.shape)

    def transposed(self) -> 'MaskPairs':
        return MaskPairs(self.mask.transpose(1, 2))

    def row_args(self, rows: slice) -> tuple:
        return (self.mask[:, rows],)

    @staticmethod
    def mask_of(block: Tensor) -> Tensor:
        return block

    def rows(self, rows: slice = slice(None)) -> Tensor:
        return self.mask[:, rows]

    def count(self, max_elements: Optional[int] = None) -> Tensor:
        return self.mask.sum(dim=(1, 2)).float()
