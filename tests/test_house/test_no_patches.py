"""Importing mmpixpro changes nothing of the libraries it builds on, and its
classes register in its own registries only.

In a fresh process with mmengine's, mmcv's, mmdet's, mmseg's and
mmpretrain's main modules imported, every module of mmpixpro is imported
(but the opt-in ``mmpixpro.engine.safe_checkpoint_loading``) and a snapshot
of the libraries compared (tests/test_house/library_probe.py): the names of
every module and the members of its dicts and lists, every class's
``__dict__`` (the same objects) and the members of its dicts and lists,
every registry's classes and children. Then mmdet's Runner trains RetinaNet
(mmdet's own R-18 config, made small) for one iteration in that process, the
config importing ``mmpixpro.benchmarks`` as the benchmark configs do, and in
a process that never imports mmpixpro: the same classes with the same
methods, the same losses (of the first iteration: a later one's differ from
run to run on CPU, with or without mmpixpro).
"""

import json
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpixpro.testing import coco_split_folders, shrink_config, toy_data

PROBE = osp.join(osp.dirname(osp.abspath(__file__)), 'library_probe.py')
RETINANET = osp.join(
    osp.dirname(mmdet.__file__),
    '.mim',
    'configs',
    'retinanet',
    'retinanet_r18_fpn_1x_coco.py',
)
# What importing mmpixpro adds to mmengine, by name (nothing is replaced):
ADDED = {
    # the package of ``mmpixpro::`` configs (mmpixpro/packaging.py)
    'MODULE2PACKAGE': ['mmpixpro'],
    'PKG2PROJECT': ['mmpixpro'],  # the same dict
    # the checkpoint hook's file backend (mmpixpro/engine/atomic_backend.py)
    'backends': ['atomic_local'],
}


@pytest.fixture(scope='module')
def probes(tmp_path_factory):
    """The probe's results with and without mmpixpro, on one small config."""
    folder = tmp_path_factory.mktemp('no_patches')
    root = str(folder / 'coco')
    toy_data.make_coco(root)
    cfg = Config.fromfile(RETINANET)
    cfg.model.backbone.init_cfg = None  # nothing downloaded
    cfg.model.neck.out_channels = 64
    cfg.model.bbox_head.update(in_channels=64, feat_channels=64)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    shrink_config(
        cfg,
        18,
        small_heads=True,
        scale=(128, 96),
        data_root=root,
        batch_size=2,
        iters=1,
        dataset_edit=coco_split_folders,
    )
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    config = str(folder / 'retinanet_small.py')
    cfg.dump(config)
    results = {}
    for mode in ('without', 'with'):
        out = str(folder / f'{mode}.json')
        proc = subprocess.run(
            [sys.executable, PROBE, mode, config, out],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        with open(out) as f:
            results[mode] = json.load(f)
    return results


def test_import_changes_nothing_of_the_libraries(probes):
    result = probes['with']
    assert not result['opt_in_imported']  # `import mmpixpro(.benchmarks)`
    seen, unexpected = set(), []
    for line in result['changes']:
        name, _, what = line.partition(' ')
        key = name.rsplit('.', 1)[-1]
        if what == f'changed (added {ADDED.get(key)})':
            seen.add(key)
        else:
            unexpected.append(line)
    assert unexpected == []
    assert seen == set(ADDED)  # the snapshot sees what is added, too


def test_no_class_of_ours_in_another_projects_registry(probes):
    assert probes['with']['elsewhere'] == []


def test_an_mmdet_run_is_the_same_with_mmpixpro_imported(probes):
    without, with_ = probes['without'], probes['with']
    assert without['mmpixpro_imported'] == []
    assert with_['run']['iterations'] == without['run']['iterations'] == 1
    losses = without['run']['losses']
    assert set(losses) == {'train/loss', 'train/loss_cls', 'train/loss_bbox'}
    assert with_['run']['losses'] == losses  # exactly
    classes = without['run']['classes']
    assert 'mmdet.models.detectors.retinanet.RetinaNet' in classes
    assert not any(name.startswith('mmpixpro') for name in classes)
    assert with_['run']['classes'] == classes


def test_another_scope_finds_ours_with_nothing_imported(probes):
    """``mmpixpro.Name`` in an mmdet-scope config needs no custom_imports
    for the classes of mmpixpro's registries' ``locations`` (the transfer
    and precise-BN hooks are in ``mmpixpro.benchmarks``, which the
    benchmark configs import)."""
    assert probes['without']['found_by_scope'] == {
        'ProtocolBatchHook': 'mmpixpro.engine.hooks.protocol_batch_hook',
        'PlainCheckpointHook': 'mmpixpro.engine.hooks.plain_checkpoint_hook',
        'VOCDatasetWithDifficult': 'mmpixpro.datasets.voc_with_difficult',
        'CPUDistributedDataParallel': 'mmpixpro.engine.cpu_distributed',
    }


def test_the_snapshot_sees_a_replaced_method(monkeypatch):
    """What the probe compares catches a patch of a library's class (here
    made for the test and undone)."""
    import library_probe
    from mmengine.logging import HistoryBuffer

    before = library_probe.snapshot()
    assert library_probe.changes(before) == []
    monkeypatch.setattr(HistoryBuffer, '__getstate__', lambda self: {}, raising=False)
    assert library_probe.changes(before) == [
        'mmengine.logging.history_buffer.HistoryBuffer.__getstate__ replaced'
    ]


@pytest.mark.parametrize(
    'scope, kind, name',
    [
        ('mmdet', 'HOOKS', 'PretrainedTransferHook'),
        ('mmseg', 'HOOKS', 'PretrainedTransferHook'),
        ('mmpretrain', 'HOOKS', 'PretrainedTransferHook'),
        ('mmdet', 'HOOKS', 'PreciseBNBeforeEvalHook'),
        ('mmseg', 'HOOKS', 'PlainCheckpointHook'),
        ('mmdet', 'DATASETS', 'VOCDatasetWithDifficult'),
        ('mmengine', 'MODEL_WRAPPERS', 'CPUDistributedDataParallel'),
    ],
)
def test_other_scopes_find_ours_by_the_scope(scope, kind, name):
    """``mmpixpro.Name`` from another project's registry (in its default
    scope, as its Runner builds) is mmpixpro's class, which is in mmpixpro's
    registry only."""
    import importlib

    import mmpixpro.benchmarks  # noqa: F401  (the configs' custom_imports)
    import mmpixpro.registry as ours

    registry = getattr(importlib.import_module(f'{scope}.registry'), kind)
    with DefaultScope.overwrite_default_scope(scope):
        cls = registry.get(f'mmpixpro.{name}')
    assert cls is getattr(ours, kind).get(name)
    assert cls.__module__.startswith('mmpixpro.') and cls.__name__ == name
    assert name not in registry.module_dict
