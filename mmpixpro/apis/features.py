"""Dense features of images, through the model's own encoder pass.

Images are read and resized (:func:`load_image`), normalised by the model's
data preprocessor (:func:`preprocess`) and encoded by ``PixPro.encode`` with
the model's level selection (:func:`dense_features`): backbone -> [neck] ->
the selected levels, before the projector (the FCOS head towers of a
``*_fpn_head`` config are not applied).
"""

import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import Tensor, nn

SIZE_DIVISOR = 32  # the stride of C5: sides that are multiples keep cells aligned


def resize_shape(
    height: int, width: int, size: Sequence[int], divisor: int = SIZE_DIVISOR
) -> Tuple[int, int]:
    """``(H, W)`` after resizing: ``[S]`` shorter side, ``[H, W]`` exactly.

    With one value the aspect ratio is kept and both sides are rounded to a
    multiple of ``divisor`` (at least ``divisor``).
    """
    if len(size) == 2:
        return int(size[0]), int(size[1])
    if len(size) != 1 or size[0] <= 0:
        raise ValueError(f'--size takes S or H W (positive), got {list(size)}')
    scale = size[0] / min(height, width)

    def snap(v: float) -> int:
        return max(divisor, int(round(v * scale / divisor)) * divisor)

    return snap(height), snap(width)


def load_image(path: str, size: Sequence[int]) -> np.ndarray:
    """Read ``path`` (BGR ``uint8``) and resize it (see :func:`resize_shape`).

    Raises:
        FileNotFoundError: No such file, or not an image cv2 can read.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path!r} not found')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'{path!r} is not an image cv2 can read')
    height, width = resize_shape(*img.shape[:2], size)
    if (height, width) != img.shape[:2]:
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return img


def preprocess(model: nn.Module, images: Sequence[np.ndarray]) -> Tensor:
    """Normalise BGR ``uint8`` images (all of one size) as the model's data
    preprocessor does in training (BGR -> RGB, mean / std).

    Returns:
        ``[N, 3, H, W]`` float tensor on the model's device.
    """
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    return model.data_preprocessor(dict(inputs=batch, data_samples=None))['inputs']


@torch.no_grad()
def dense_features(model: nn.Module, inputs: Tensor) -> Dict[str, Tensor]:
    """Dense features of the levels ``model`` selects, before the projector.

    ``PixPro.encode`` runs the online backbone [and neck] and selects the
    levels; its projector is replaced by the identity here.

    Args:
        model: A PixPro model (eval mode for inference statistics), e.g. from
            :func:`~mmpixpro.apis.init_model` with the wanted ``levels``.
        inputs: Normalised images ``[N, 3, H, W]`` (see :func:`preprocess`).

    Returns:
        Level name -> ``[N, C, h, w]`` features.
    """
    online = model.online_net()
    net = nn.ModuleDict({k: online[k] for k in ('backbone', 'neck') if k in online})
    net['projector'] = nn.Identity()
    _, feats = model.encode(net, inputs)
    return {model.level_names[i]: f for i, f in zip(model.out_indices, feats)}
