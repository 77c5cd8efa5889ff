"""mmpixpro.testing.configs: one shrinking function for the tests, the demo
and the speed tool; only sizes change."""

import glob
import os.path as osp

import pytest
from conftest import PHOTOS, REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpixpro.registry import MODELS
from mmpixpro.testing import shrink_config, small_benchmark_config, tiny_config

SELFSUP = sorted(glob.glob(osp.join(REPO, 'configs', 'selfsup', '*.py')))
BENCH = sorted(
    p
    for p in glob.glob(osp.join(REPO, 'configs', 'benchmarks', '**', '*.py'))
    if '_base_' not in p
)
C5 = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py')
FPN_HEAD = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
# Leaf names that shrinking may change: sizes, data, length, logging.
SIZES = {
    'depth', 'in_channels', 'out_channels', 'feat_channels', 'hid_channels',
    'conv_out_channels', 'fc_out_channels', 'scale', 'scales', 'crop_size',
    'stride', 'size', 'num', 'nms_pre', 'max_per_img', 'score_thr',
    'num_samples', 'batch_size', 'num_workers', 'persistent_workers',
    'pin_memory', 'data_root', 'ann_file', 'img', 'max_epochs', 'max_iters',
    'val_interval', 'interval', 'by_epoch', 'window_size', 'backend',
    'embed_dims', 'depths', 'arch', 'channels',  # a small Swin / ConvNeXt
    'num_layers', 'num_heads', 'feedforward_channels',  # a small ViT
    'with_cp',  # the CPU switch (and mixed precision, CPU below)
}  # fmt: skip
CPU = {('optim_wrapper', 'type'), ('optim_wrapper', 'loss_scale')}
# Whole entries replaced by a short run (iterations, no schedule, a
# checkpoint at the end, a log line per iteration).
RUN = [
    ('train_cfg',),
    ('param_scheduler',),
    ('log_processor',),
    ('default_hooks', 'checkpoint'),
    ('default_hooks', 'logger'),
]


def sizes(diff):
    """The leaf names of ``diff`` outside the entries a short run replaces
    and the CPU switch's optimiser wrapper."""
    return {p[-1] for p in diff - CPU if not any(p[: len(r)] == r for r in RUN)}


def assert_small(backbone):
    """ResNet-18, or a Swin / ConvNeXt / ViT at a quarter of its widths."""
    if backbone.type.endswith('VisionTransformer'):
        assert backbone.arch['embed_dims'] == 192
        assert backbone.arch['num_layers'] == 2
    elif 'depth' in backbone:
        assert backbone.depth == 18
    elif 'embed_dims' in backbone:
        assert backbone.embed_dims in (24, 32)
        assert max(backbone.depths) <= 6
    else:
        assert backbone.arch['channels'][0] == 24
        assert max(backbone.arch['depths']) <= 9


def leaves(node, path=()):
    """``{path: value}`` of every leaf of nested dicts and lists."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return {path: node}
    out = {}
    for key, value in items:
        out.update(leaves(value, path + (key,)))
    return out


def changed(before: Config, after: Config):
    """Paths of the leaves that differ (added, removed or changed), without
    list positions."""
    a, b = leaves(before.to_dict()), leaves(after.to_dict())
    diff = {p for p in set(a) | set(b) if a.get(p, '-') != b.get(p, '-')}
    return {tuple(k for k in p if isinstance(k, str)) for p in diff}


@pytest.mark.parametrize('path', SELFSUP, ids=osp.basename)
def test_tiny_config_changes_only_sizes(path, tmp_path):
    cfg = tiny_config(path, tmp_path, data_root=PHOTOS)
    diff = changed(Config.fromfile(path), cfg)
    names = sizes(diff - {('work_dir',)})
    assert names <= SIZES, names - SIZES
    assert_small(cfg.model.backbone)
    assert cfg.train_dataloader.dataset.get('data_root', PHOTOS) == PHOTOS


@pytest.mark.parametrize('path', BENCH, ids=osp.basename)
def test_small_benchmark_config_changes_only_sizes(path):
    cfg = small_benchmark_config(Config.fromfile(path), '/data', (128, 96))
    diff = changed(Config.fromfile(path), cfg)
    names = sizes(diff)
    assert names <= SIZES, names - SIZES
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    assert_small(cfg.model.backbone)
    assert cfg.optim_wrapper.type != 'AmpOptimWrapper'  # no mixed precision on CPU


@pytest.mark.parametrize('path', [C5, FPN_HEAD], ids=osp.basename)
@pytest.mark.parametrize('depth', [18, 34, 101])
def test_another_depth_for_the_speed_tool(path, depth):
    """``shrink_config(cfg, depth, sync_bn=False)``: the model builds (its
    widths fit) with BN only; nothing but the model's depth, widths and norm
    layers changes."""
    cfg = shrink_config(Config.fromfile(path), depth, sync_bn=False)
    names = {p[-1] for p in changed(Config.fromfile(path), cfg)}
    assert names <= {'depth', 'in_channels', 'type'}
    with DefaultScope.overwrite_default_scope('mmpixpro'):  # whatever ran before
        model = MODELS.build(cfg.model)
    assert model.backbone.depth == depth
    kinds = {type(m).__name__ for m in model.modules()}
    assert 'SyncBatchNorm' not in kinds and 'BatchNorm2d' in kinds
    assert sum(p.numel() for p in model.backbone.parameters()) > 0
