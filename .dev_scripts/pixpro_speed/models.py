"""The measured models: the project's pre-training configs at a chosen depth,
and the instance-level counterpart of the pixel head."""

import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpixpro.testing import shrink_config

from .worker import build_model

STEP_CONFIGS = {  # candidates: the first one a revision has is used
    'C5': ('pixpro_r50_c5_8xb128-coslr-100e_in1k.py',),
    'FPN + head, P3-P6': (
        'pixpro_r50_fcos-fpn-head_8xb128-coslr-100e_in1k.py',
        'pixpro_r50_fpn_head.py',
    ),
}


def config_in(repo, names):
    """The first of ``names`` under ``repo``/configs/selfsup."""
    for name in names:
        path = osp.join(repo, 'configs', 'selfsup', name)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'none of {names} in {repo}/configs/selfsup')


def step_config(path, depth, channels_last=None):
    """The config at ``path`` with a ResNet-``depth`` (the widths that follow
    it too) and BN for one process; ``channels_last`` None: as configured."""
    cfg = shrink_config(Config.fromfile(path), depth, sync_bn=False)
    if channels_last is not None:
        cfg.model.channels_last = channels_last
    return cfg


def step_model(path, depth, channels_last=None):
    """The model of :func:`step_config`, built with initialised weights."""
    return build_model(step_config(path, depth, channels_last).model)


class PooledCosineHead(torch.nn.Module):
    """The instance-level counterpart: -2 cos of pooled features, both ways."""

    def loss(self, online1, online2, target1, target2, coords1, coords2):
        def cos(a, b):
            return F.cosine_similarity(a.mean(dim=(2, 3)), b.mean(dim=(2, 3))).mean()

        terms = [
            -2 * (cos(o1, t2) + cos(o2, t1))
            for o1, o2, t1, t2 in zip(online1, online2, target1, target2)
        ]
        return dict(loss=torch.stack(terms).mean())
