"""Tiny versions of the project's configs for CPU tests.

Only sizes change here (input, backbone depth, widths, batch, length); every
other setting is the config's own.
"""

import os.path as osp
from typing import Any

from conftest import DEMO_CONFIG as DEMO_CONFIG_PATH  # noqa: F401
from conftest import PHOTOS
from mmengine.config import Config


def walk(node: Any, fn) -> None:
    """Call ``fn`` on every dict inside ``node`` (dicts and lists)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk(value, fn)


def tiny_config(
    path: str,
    work_dir: str,
    crop_size: int = 64,
    batch_size: int = 4,
    max_epochs: int = 1,
    data_root: str = PHOTOS,
) -> Config:
    cfg = Config.fromfile(path)
    cfg.work_dir = str(work_dir)

    def shrink(node: dict) -> None:
        if node.get('type') == 'RandomResizedCropWithCoord':
            node['scale'] = crop_size
        norm = node.get('norm_cfg')
        if isinstance(norm, dict) and norm.get('type') == 'SyncBN':
            node['norm_cfg'] = dict(norm, type='BN')
        if node.get('type') == 'DenseProjector':
            node['hid_channels'] = 64

    walk(cfg._cfg_dict, shrink)
    backbone = cfg.model.backbone
    if backbone.get('depth', 18) > 18:
        backbone.depth = 18
        if cfg.model.projector.in_channels == 2048:
            cfg.model.projector.in_channels = 512
    loader = cfg.train_dataloader
    loader.batch_size = batch_size
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.pin_memory = False
    loader.dataset.data_root = data_root
    cfg.train_cfg.max_epochs = max_epochs
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def checkpoint_path(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()
