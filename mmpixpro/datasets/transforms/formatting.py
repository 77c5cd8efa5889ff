"""Pack the views and their boxes for :class:`mmpixpro.models.PixPro`."""

from typing import Sequence

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmpixpro.registry import TRANSFORMS


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """HxW(xC) array -> contiguous CxHxW tensor of the same dtype."""
    if img.ndim == 2:
        return torch.from_numpy(np.ascontiguousarray(img[None]))
    # cv2.split + stack, not a strided transpose copy (performance notes, Data)
    return torch.from_numpy(np.stack(cv2.split(img)))


@TRANSFORMS.register_module()
class PackPixProInputs(BaseTransform):
    """Pack multi-view results into ``inputs`` and a ``DataSample``.

    Output ``inputs``: a list with one ``[C, H, W]`` tensor per view.
    Output ``data_samples``: a ``DataSample`` whose ``coords`` is the
    float32 tensor ``[V, 4]`` of the views' boxes, with ``meta_keys`` as
    metainfo.

    Args:
        meta_keys (Sequence[str]): Keys kept as metainfo when present.
            Defaults to ``('img_path', 'ori_shape')``.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        imgs, coords = results.get('img'), results.get('coord')
        if not isinstance(imgs, list) or not isinstance(coords, list):
            raise KeyError(
                'PackPixProInputs needs lists of views in '
                "'img' and 'coord' (use MultiViewWithCoord)"
            )
        data_sample = DataSample()
        data_sample.set_field(
            torch.from_numpy(np.stack(coords).astype(np.float32)), 'coords'
        )
        data_sample.set_metainfo(
            {k: results[k] for k in self.meta_keys if k in results}
        )
        return dict(
            inputs=[image_to_tensor(img) for img in imgs],
            data_samples=data_sample,
        )

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
