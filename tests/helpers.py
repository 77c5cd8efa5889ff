"""Test helpers: the scaffolding of :mod:`mmpixpro.testing` with the bundled
photos as the default data, and loading a script of tools/ by its path."""

import functools
import os.path as osp

from conftest import DEMO_CONFIG as DEMO_CONFIG_PATH  # noqa: F401
from conftest import PHOTOS, REPO

from mmpixpro import testing
from mmpixpro.testing import checkpoint_path  # noqa: F401
from mmpixpro.testing import walk_dicts as walk  # noqa: F401

tiny_config = functools.partial(testing.tiny_config, data_root=PHOTOS)
pretrain = functools.partial(testing.pretrain, data_root=PHOTOS)


def small_pretraining_checkpoints(tmp_path_factory, names, trained=()) -> dict:
    """``configs/selfsup/<name>`` (a full file name) -> the path of a small
    checkpoint of it: a Runner's (one iteration on the photos) for the names
    in ``trained``, the built model's tensors for the others."""
    import torch
    from conftest import process_globals_kept
    from mmengine.registry import DefaultScope

    from mmpixpro.registry import MODELS

    found = {}
    for name in names:
        config = osp.join(REPO, 'configs', 'selfsup', name)
        work_dir = tmp_path_factory.mktemp(osp.splitext(name)[0])
        if name in trained:
            with process_globals_kept():  # the Runner's stay its own
                found[name] = pretrain(config, work_dir, iters=1)
            continue
        cfg = tiny_config(config, work_dir)
        with DefaultScope.overwrite_default_scope('mmpixpro'):
            model = MODELS.build(cfg.model)
        found[name] = str(work_dir / 'model.pth')
        torch.save(dict(state_dict=model.state_dict()), found[name])
    return found


def load_tool(relpath: str):
    """Import a script of tools/ (not a package) by its path in the repo."""
    import importlib.util

    name = osp.splitext(osp.basename(relpath))[0]
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', osp.join(REPO, relpath)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PayloadOnLoad:
    """Unpickling calls ``open(marker, 'w')``: the file exists iff it ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


LABEL, HEAD = 20, 26  # figures: pixels above each panel / for the title


def read_png(path: str):
    """A written picture, BGR."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    assert img is not None, path
    return img


def panel(img, row: int, col: int, height: int, width: int):
    """Pixels of one panel of a figure (a margin for anti-aliasing)."""
    top = HEAD + row * (LABEL + height) + LABEL
    return img[top + 2 : top + height - 2, col * width + 2 : (col + 1) * width - 2]


def run_cli(cmd, cwd, ok: bool = True, env=None, **extra):
    """``cmd`` in a fresh process from ``cwd``, as a user runs it (environment
    ``env`` or this one's, plus ``extra``); the finished process, asserted to
    succeed unless ``ok`` is False."""
    import os
    import subprocess

    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(env if env is not None else os.environ, OMP_NUM_THREADS='2', **extra),
    )
    if ok:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def log_of(work_dir) -> str:
    """The text of the one log file of a run's work dir."""
    import glob

    (log,) = glob.glob(osp.join(str(work_dir), '*', '*.log'))
    with open(log) as f:
        return f.read()


def toy_benchmark_config(config: str, folder, iters: int = 1, train_only=False):
    """``config`` (a COCO or Cityscapes benchmark) made small
    (``small_benchmark_config``) on generated data under ``folder``, dumped
    there; its path. ``train_only``: no validation."""
    from mmengine.config import Config

    from mmpixpro.testing import coco_split_folders, small_benchmark_config, toy_data

    cfg = Config.fromfile(config)
    if 'cityscapes' in osp.basename(config):
        root = toy_data.make_cityscapes(osp.join(str(folder), 'cityscapes'))
        cfg = small_benchmark_config(cfg, root, (128, 64), iters=iters)
    else:
        root = osp.join(str(folder), 'coco')
        anns = toy_data.make_coco(root)
        cfg = small_benchmark_config(
            cfg,
            root,
            (128, 96),
            iters=iters,
            val_ann=anns['val2017'],
            dataset_edit=coco_split_folders,
        )
    if train_only:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    path = osp.join(str(folder), osp.splitext(osp.basename(config))[0] + '_small.py')
    cfg.dump(path)
    return path


BENCHMARKS = osp.join(REPO, 'configs', 'benchmarks')
FCOS = osp.join(BENCHMARKS, 'mmdet', 'fcos_r50_fpn_gn-head_1x_coco_mmdet-default.py')
MASK_RCNN_FPN = osp.join(
    BENCHMARKS, 'mmdet', 'mask-rcnn_r50_fpn_8xb2-ms-90k_coco_paper-protocol.py'
)
FCN = osp.join(
    BENCHMARKS, 'mmseg', 'fcn-d6_r50-d16_8xb2-90k_cityscapes-769x769_paper-protocol.py'
)


def own_train_py(package: str) -> str:
    """The train.py that mmdet's / mmseg's package ships (what ``mim train``
    runs)."""
    import importlib

    module = importlib.import_module(package)
    return osp.join(osp.dirname(module.__file__), '.mim', 'tools', 'train.py')


def build_downstream(cfg, part=None):
    """``cfg.model`` (or ``cfg.model[part]``) of an mmdet / mmseg /
    mmpretrain config, built by its own library in its own scope (after the
    config's ``custom_imports``)."""
    import importlib

    from mmengine.registry import DefaultScope

    for module in cfg.custom_imports.imports:
        importlib.import_module(module)
    scope = cfg.default_scope
    importlib.import_module(f'{scope}.utils').register_all_modules(False)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(cfg.model if part is None else cfg.model[part])
