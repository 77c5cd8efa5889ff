"""Several augmented views of one image, each keeping its crop box."""

import copy
from typing import Sequence

import numpy as np
from mmpretrain.datasets.transforms import MultiView

from mmpixpro.registry import TRANSFORMS


def _immutable(value) -> bool:
    """Strings, numbers, None and tuples of them: safe to share."""
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    return isinstance(value, (str, bytes, int, float, bool, type(None)))


def view_fields(shared: dict) -> dict:
    """The image's fields for one view: immutable values (paths, shapes)
    shared, others deep-copied; the whole dict is not (docs/en/notes/
    performance.md, "Data")."""
    return {k: v if _immutable(v) else copy.deepcopy(v) for k, v in shared.items()}


@TRANSFORMS.register_module()
class MultiViewWithCoord(MultiView):
    """mmpretrain's ``MultiView`` that keeps more than the views' images.

    (The parent keeps only ``img`` of each view, losing the crop boxes.)

    After this transform ``results[key]`` is a list with one entry per view
    for every key of ``keys``.

    Args:
        transforms (list[list[dict]]): One pipeline per group of views.
        num_views (int | list[int]): Views made by each pipeline.
        keys (Sequence[str]): Keys gathered from every view. Defaults to
            ``('img', 'coord')``.
    """

    def __init__(
        self, transforms, num_views, keys: Sequence[str] = ('img', 'coord')
    ) -> None:
        super().__init__(transforms=transforms, num_views=num_views)
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        views = {key: [] for key in self.keys}
        # Every view reads the one decoded image, not a copy of it; it is made
        # read-only, so a transform writing into it fails instead of leaking
        # into the next view.
        img = results.get('img')
        shared = {k: v for k, v in results.items() if k != 'img'}
        if isinstance(img, np.ndarray):
            img.flags.writeable = False
        for index, pipeline in enumerate(self.transforms):
            view = view_fields(shared)
            if img is not None:
                view['img'] = img
            out = pipeline(view)
            for key in self.keys:
                if key not in out:
                    raise KeyError(
                        f'view {index} has no {key!r}: its pipeline must '
                        'produce it (use RandomResizedCropWithCoord for '
                        "'coord')"
                    )
                views[key].append(out[key])
        results.update(views)
        return results
