"""Several augmented views of one image, each keeping its crop box."""

import copy
from typing import Sequence

from mmpretrain.datasets.transforms import MultiView

from mmpixpro.registry import TRANSFORMS


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
        for index, pipeline in enumerate(self.transforms):
            out = pipeline(copy.deepcopy(results))
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
