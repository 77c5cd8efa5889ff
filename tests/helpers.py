"""Tiny versions of the project's configs for CPU tests.

Only sizes change here (input, backbone depth, widths, batch, length); every
other setting is the config's own.
"""

import os.path as osp

from conftest import DEMO_CONFIG as DEMO_CONFIG_PATH  # noqa: F401
from conftest import PHOTOS
from mmengine.config import Config

from mmpixpro.benchmarks.small import walk_dicts as walk


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

    shrink_depth = cfg.model.backbone.get('depth', 18) > 18

    def shrink(node: dict) -> None:
        if node.get('type') == 'RandomResizedCropWithCoord':
            node['scale'] = crop_size
        if node.get('type') == 'DenseProjector':
            node['hid_channels'] = 64
        if shrink_depth:  # ResNet-50 -> 18: 4x fewer output channels
            if node.get('in_channels') == 2048:
                node['in_channels'] = 512
            if node.get('in_channels') == [256, 512, 1024, 2048]:
                node['in_channels'] = [64, 128, 256, 512]

    if shrink_depth:
        cfg.model.backbone.depth = 18
    walk(cfg._cfg_dict, shrink)
    loader = cfg.train_dataloader
    loader.batch_size = batch_size
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.pin_memory = False
    datasets = loader.dataset.get('datasets', [loader.dataset])  # ConcatDataset
    for dataset in datasets:
        dataset.data_root = data_root
    cfg.train_cfg.max_epochs = max_epochs
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def checkpoint_path(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def pretrain(config: str, work_dir, iters: int = 1) -> str:
    """A real (tiny) pre-training run of ``config``; returns its checkpoint."""
    from mmengine.runner import Runner

    cfg = tiny_config(config, work_dir, batch_size=4)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=iters, by_epoch=False
    )
    Runner.from_cfg(cfg).train()
    return checkpoint_path(str(work_dir))


def load_tool(relpath: str):
    """Import a script of tools/ (not a package) by its path in the repo."""
    import importlib.util

    from conftest import REPO

    name = osp.splitext(osp.basename(relpath))[0]
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, relpath)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
