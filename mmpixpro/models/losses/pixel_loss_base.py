"""Pixel losses in the common OpenMMLab form, chunked inside.

``loss(pred1, pred2, target1, target2, pos_pairs)`` returns the weighted
symmetric loss of two views in one call. Inside, each direction is a sum
over the query pixels (rows) of one view followed by a reduction: a subclass
writes the sums of some rows (:meth:`PixelLoss._row_totals`, a sum and a
count per image) and the per-image value (:meth:`PixelLoss._per_image`);
the base class walks the rows in chunks of at most ``max_elements``
elements, checkpointed when there is more than one
(:mod:`mmpixpro.models.utils.chunked`), so the dense and the chunked
evaluation compute the same formula.

Under mixed precision (fp16 / bf16 autocast) the pixel losses compute in
float32 (:func:`float32_region`): a PixPro pair count at P3 reaches
``784 * 784`` and a PixContrast row at tau = 0.1 sums up to 784 terms of
``exp(cos / 0.1) <= 22026``, both past fp16's 65504; the authors' release
(apex O1) also kept sums and exponentials in float32.
"""

from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpixpro.models.utils.chunked import map_row_chunks, rows_per_chunk
from mmpixpro.models.utils.pixel_pairs import MaskPairs, PixelPairs

Pairs = Union[Tensor, PixelPairs, MaskPairs]


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


def _chunk_totals(loss, mask_of, pred_rows, target, *mask_args) -> Tensor:
    """``loss._row_totals`` of some query rows (one checkpointed chunk)."""
    cos = pred_rows.transpose(1, 2) @ target  # [N, R, HW2]
    return loss._row_totals(cos, mask_of(*mask_args))


class PixelLoss(nn.Module):
    r"""A symmetric pixel loss between two views.

    .. math::

        L = w \cdot \mathrm{sym}\big(\ell(p_1, t_2, M),\ \ell(p_2, t_1, M^T)\big)

    with ``w`` = ``loss_weight``, :math:`\ell` one direction (the online
    prediction of one view against the target of the other, over the pairs
    ``M`` of the pair rule), ``sym`` the subclass's: the sum for PixPro, the
    mean for PixContrast, as the paper states each. One direction is
    ``reduce(sum over row chunks of _row_totals(...))``: ``_row_totals``
    gives each image's ``[sum, count]``, :meth:`_per_image` turns them into
    a per-image value, averaged over the images of the batch. An image whose
    two views share no positive pair (count 0) is left out of that mean when
    ``skip_empty`` is True (the paper); otherwise it counts as 0 (the
    authors' release).

    Args:
        skip_empty (bool): Leave images without positive pairs out of the
            batch mean. Defaults to True.
        loss_weight (float): ``w``. Defaults to 1.0.
    """

    def __init__(self, skip_empty: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not loss_weight >= 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
        self.skip_empty = skip_empty
        self.loss_weight = loss_weight

    def forward(
        self,
        pred1: Tensor,
        pred2: Tensor,
        target1: Tensor,
        target2: Tensor,
        pos_pairs: Pairs,
        max_elements: Optional[int] = None,
    ) -> Tensor:
        """The weighted symmetric loss of two views.

        Args:
            pred1, pred2 (Tensor): Online predictions of view 1 / view 2,
                ``[N, C, H1, W1]`` / ``[N, C, H2, W2]`` (normalised inside).
            target1, target2 (Tensor): Target features of view 1 / view 2.
            pos_pairs (Tensor | PixelPairs): The positive pairs from view 1
                to view 2: a bool mask ``[N, H1*W1, H2*W2]`` or the pair rule
                (:class:`~mmpixpro.models.utils.PixelPairs`), which the
                chunks evaluate row by row without building the whole mask.
            max_elements (int, optional): Bound on the elements of one
                ``[N, rows, HW]`` block; more rows are evaluated in
                checkpointed chunks (exact, memory of one chunk). None: one
                chunk (dense).

        Returns:
            Tensor: The scalar loss, computed in float32 (also under
            autocast).
        """
        pairs = MaskPairs(pos_pairs) if isinstance(pos_pairs, Tensor) else pos_pairs
        loss12 = self.one_way(pred1, target2, pairs, max_elements)
        loss21 = self.one_way(pred2, target1, pairs.transposed(), max_elements)
        return self.loss_weight * self._symmetric(loss12, loss21)

    def one_way(
        self,
        pred: Tensor,
        target: Tensor,
        pos_pairs: Pairs,
        max_elements: Optional[int] = None,
    ) -> Tensor:
        """:math:`\\ell`: one direction, unweighted (see :meth:`forward`);
        ``pos_pairs`` from ``pred``'s pixels to ``target``'s."""
        pairs = MaskPairs(pos_pairs) if isinstance(pos_pairs, Tensor) else pos_pairs
        n, hw1, hw2 = pred.size(0), pred[0, 0].numel(), target[0, 0].numel()
        if tuple(pairs.shape) != (n, hw1, hw2):
            raise ValueError(
                f'pos_mask has shape {tuple(pairs.shape)}, expected {(n, hw1, hw2)}'
            )
        with float32_region(pred.device):  # checkpoint re-enters the same state
            pred_n = normalized_pixels(upcast(pred))  # [N, C, HW1]
            target_n = normalized_pixels(upcast(target))  # [N, C, HW2]

            def args_of(rows: slice) -> tuple:
                mask_args = pairs.row_args(rows)
                return (self, pairs.mask_of, pred_n[:, :, rows], target_n, *mask_args)

            chunk_rows = rows_per_chunk(n, hw1, hw2, max_elements)
            totals = sum(map_row_chunks(_chunk_totals, hw1, chunk_rows, args_of))
            return self._reduce(totals)

    def _row_totals(self, cos: Tensor, mask: Tensor) -> Tensor:
        """Per-image ``[sum, count]`` ``[N, 2]`` for some rows.

        Args:
            cos (Tensor): Cosine similarities ``[N, R, HW_target]`` of R query
                pixels with all target pixels.
            mask (Tensor): Their positive pairs, bool, same shape.
        """
        raise NotImplementedError

    def _per_image(self, totals: Tensor) -> Tensor:
        """The loss of each image ``[N]`` from its totals ``[N, 2]``."""
        raise NotImplementedError

    def _symmetric(self, loss12: Tensor, loss21: Tensor) -> Tensor:
        """The symmetric loss from its two directions (here: their sum)."""
        return loss12 + loss21

    def _reduce(self, totals: Tensor) -> Tensor:
        """The scalar loss of one direction from the totals ``[N, 2]``.

        With ``skip_empty``: ``sum_{n valid} l_n / max(#valid, 1)``, written
        without data-dependent branches or indexing (``torch.compile`` keeps
        it in one graph); 0, with the graph kept, when no image has a pair.
        """
        per_image = self._per_image(totals)
        if not self.skip_empty:
            return per_image.mean()
        valid = totals[:, 1] > 0
        kept = torch.where(valid, per_image, torch.zeros_like(per_image))
        return kept.sum() / valid.sum().clamp(min=1)
