"""Pixel-level head: pair rule, pixel propagation and loss for every level."""

import logging
import math
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from mmpixpro.models.losses import normalized_pixels
from mmpixpro.models.utils import PixelPairs
from mmpixpro.registry import MODELS

Levels = Sequence[Tensor]

#: The state-dict key (under the head's prefix) that records ``max_elements``.
EXTRA_STATE_KEY = '_extra_state'


def feature_spread(x: Tensor) -> Tensor:
    """How much normalised pixel features vary within each image.

    ``sqrt(C) * mean_{n, c} std_pixels(normalize(x)[n, c])``: about 1 for
    features spread over the sphere, 0 when every pixel of an image has the
    same feature (a collapse that drives the PixPro loss to -4).

    Args:
        x (Tensor): ``[N, C, H, W]``.
    """
    if x.shape[-2] * x.shape[-1] < 2:
        return x.new_zeros(())
    feat = normalized_pixels(x.detach().float())  # [N, C, HW]
    return feat.std(dim=2).mean() * math.sqrt(x.size(1))


def check_max_elements(value) -> Optional[int]:
    """``value`` if it is a bound on block elements (an int > 0) or None."""
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and value > 0
    ):
        return value
    raise ValueError(
        f'PixelHead: max_elements must be an int > 0 or None (dense), got '
        f'{value!r}; the per-device defaults of a config (pixel_max_elements) '
        'are picked by tools/train.py'
    )


@MODELS.register_module()
class PixelHead(BaseModule):
    """Symmetric pixel-consistency loss between two views, over all levels.

    For each output level, the pair rule of the two views
    (:class:`~mmpixpro.models.utils.PixelPairs`, from their crop boxes and
    that level's feature size) and the predictions of the pixel propagation
    module go to the loss, which compares each view's prediction with the
    other view's target features, both directions in one call::

        L_level = loss(ppm(x1), ppm(x2), z1, z2, pairs)
        L = mean over levels of L_level

    The PPM's weights are shared by all levels.

    Memory is bounded by ``max_elements``, a setting of the run (never a
    reading of free memory): the same config computes the same numbers on
    every rank and after a resume. It is recorded in checkpoints (the
    state-dict entry ``head._extra_state``); loading one sets the recorded
    bound, so a resumed run keeps the bound it started with (a warning names
    both when the launch asked for another).

    Args:
        loss (dict): The pixel loss, e.g. ``PixProLoss``,
            ``PixContrastLoss``, called once per level. Defaults to
            ``dict(type='PixProLoss')``.
        ppm (dict, optional): The pixel propagation module applied to the
            online features; its bound is the head's ``max_elements`` (set
            that, not the PPM's). None feeds the projected features directly.
        pos_threshold (float): ``T`` of the pair rule. Defaults to 0.7.
        max_elements (int, optional): Bound on the elements of one
            ``[N, rows, HW]`` block of the pair rule, the loss and the PPM's
            similarity. Levels whose ``N x HW1 x HW2`` exceeds it are
            evaluated in checkpointed chunks of rows, exactly and with memory
            bounded by one chunk; smaller ones in one chunk, densely. None:
            always one chunk (dense). Defaults to 2**22 (16 MiB in fp32), the
            pre-training configs' CPU value: ``tools/train.py`` sets the
            config's ``pixel_max_elements`` entry of the device type (``cuda``
            or ``cpu``) unless ``model.head.max_elements`` is given.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        loss: dict = dict(type='PixProLoss'),
        ppm: Optional[dict] = dict(type='PixelPropagationModule', in_channels=256),
        pos_threshold: float = 0.7,
        max_elements: Optional[int] = 1 << 22,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not pos_threshold > 0:
            raise ValueError(f'pos_threshold (T) must be > 0, got {pos_threshold}')
        if ppm is not None and 'max_elements' in ppm:
            raise ValueError(
                "PixelHead: set the bound as the head's max_elements, not as "
                "ppm.max_elements (the head's bounds the PPM too)"
            )
        self.pos_threshold = pos_threshold
        self.loss_module = MODELS.build(loss)
        self.ppm = MODELS.build(ppm) if ppm is not None else None
        self.set_max_elements(check_max_elements(max_elements))

    def set_max_elements(self, value: Optional[int]) -> None:
        """The bound of the head's blocks and of its PPM's."""
        self.max_elements = value
        if self.ppm is not None and hasattr(self.ppm, 'max_elements'):
            self.ppm.max_elements = value

    def get_extra_state(self) -> Tensor:
        """``max_elements`` for the checkpoint (``-1``: None, dense)."""
        return torch.tensor(-1 if self.max_elements is None else self.max_elements)

    def set_extra_state(self, state: Tensor) -> None:
        """Take the checkpoint's ``max_elements`` (see the class docstring)."""
        recorded = int(state)
        bound = None if recorded < 0 else recorded
        if bound != self.max_elements:
            print_log(
                f'PixelHead: max_elements={bound} from the checkpoint replaces '
                f'max_elements={self.max_elements} of this launch: a run keeps '
                'the bound it started with',
                logger='current',
                level=logging.WARNING,
            )
        self.set_max_elements(bound)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ) -> None:
        """A checkpoint without the bound (written before it was recorded)
        loads too, and leaves this run's."""
        recorded = prefix + EXTRA_STATE_KEY in state_dict
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing, unexpected, errors
        )
        if not recorded and prefix + EXTRA_STATE_KEY in missing:
            missing.remove(prefix + EXTRA_STATE_KEY)

    def propagate(self, x: Tensor) -> Tensor:
        """The online branch's prediction from its projected features."""
        return self.ppm(x) if self.ppm is not None else x

    def loss(
        self,
        online1: Levels,
        online2: Levels,
        target1: Levels,
        target2: Levels,
        coords1: Tensor,
        coords2: Tensor,
    ) -> Dict[str, Tensor]:
        """Loss of the two views.

        Args:
            online1, online2 (Sequence[Tensor]): Online projected features of
                view 1 / view 2, one ``[N, C, H, W]`` map per level.
            target1, target2 (Sequence[Tensor]): Target (momentum) projected
                features of view 1 / view 2, same levels.
            coords1, coords2 (Tensor): Crop boxes ``[N, 4]`` of the views.

        Returns:
            dict[str, Tensor]: ``loss_pixel`` (added by mmengine to the other
            ``loss*`` terms into the logged and back-propagated ``loss``);
            logged only: ``num_pos_pairs`` (mean number of positive pairs per
            image and level) and ``feature_spread`` (see
            :func:`feature_spread`, target view 1).
        """
        num_levels = len(online1)
        if not (len(online2) == len(target1) == len(target2) == num_levels):
            raise ValueError('all feature sequences need the same number of levels')
        bound = self.max_elements
        losses, num_pairs = [], []
        for o1, o2, t1, t2 in zip(online1, online2, target1, target2):
            pairs = PixelPairs(
                coords1, coords2, o1.shape[-2:], o2.shape[-2:], self.pos_threshold
            )
            pred1, pred2 = self.propagate(o1), self.propagate(o2)
            losses.append(self.loss_module(pred1, pred2, t1, t2, pairs, bound))
            num_pairs.append(pairs.count(bound).mean())
        spread = torch.stack([feature_spread(t) for t in target1]).mean()
        return dict(
            loss_pixel=torch.stack(losses).mean(),
            num_pos_pairs=torch.stack(num_pairs).mean(),
            feature_spread=spread,
        )
