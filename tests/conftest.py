"""Shared fixtures: the bundled photos, registries, tiny configs, a tiny
checkpoint of the demo config."""

import contextlib
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PHOTOS = osp.join(REPO, 'demo', 'photos')
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'selfsup', 'pixpro_r18_c5_1xb4-coslr-40e_demo.py'
)
FPN_HEAD_CONFIG = osp.join(REPO, 'configs', 'selfsup', 'pixpro_r50_fpn_head.py')
# 512 x 512 and 300 x 451
SQUARE_WIDE = ('astronaut.png', 'chelsea.png')

# Keep the CPU test runs on the two cores without oversubscription.
os.environ.setdefault('OMP_NUM_THREADS', '2')


DEV_SCRIPT_TESTS = osp.join(REPO, 'tests', 'test_dev_scripts') + os.sep


def pytest_collection_modifyitems(config, items):
    """The development harness's tests (``.dev_scripts/``) are ``heavy``:
    run by ``make test-all``, not by ``make test`` (pytest.ini)."""
    for item in items:
        if osp.abspath(str(item.fspath)).startswith(DEV_SCRIPT_TESTS):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmpixpro.utils import register_all_modules

    register_all_modules(init_default_scope=True)


def _process_global_classes():
    """mmengine's classes whose instances are process-wide by name: default
    scopes, message hubs, loggers and visualizers (every subclass too).
    ``get_instance`` of a taken name returns the old instance, log file or
    save dir and all: mmdet's and mmseg's configs all name their visualizer
    ``'visualizer'``, and a Runner names its logger after the config file and
    the second it starts, so two tiny runs of one config a second apart
    would share one log file."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer

    classes, todo = [DefaultScope, MessageHub], [Visualizer, MMLogger]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    return classes


@contextlib.contextmanager
def process_globals_kept():
    """The default scopes, message hubs, loggers and visualizers as they
    were before the block (the current one is the newest instance): a Runner, or
    ``DefaultScope.overwrite_default_scope``, makes its own current for the
    whole process, and a later test would build from an mmdet scope, read
    another run's ``max_iters`` or write into another test's (removed) work
    dir."""
    from collections import OrderedDict

    saved = {cls: OrderedDict(cls._instance_dict) for cls in _process_global_classes()}
    try:
        yield
    finally:
        # classes imported inside the block start again with no instance
        for cls in _process_global_classes():
            cls._instance_dict = saved.get(cls, OrderedDict())


@pytest.fixture(autouse=True)
def _restore_process_globals():
    """Every test ends with the default scopes, message hubs, loggers and
    visualizers it started with (a fixture of a wider scope that runs a
    Runner keeps them itself, with :func:`process_globals_kept`)."""
    with process_globals_kept():
        yield


@pytest.fixture(autouse=True)
def _payloads_meet_permissive_torch(request, monkeypatch):
    """A test marked ``payload`` runs with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
    (subprocesses inherit it): every ``torch.load`` that does not pass
    ``weights_only`` then unpickles anything, as torch < 2.6 does, so the
    payload stays inert only where the project passes ``weights_only=True``
    itself. A test that sets the variable itself (a fixture parameter) wins."""
    if request.node.get_closest_marker('payload') is not None:
        monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    """The toy COCO of :func:`mmpixpro.testing.toy_data.make_coco`, one per
    test module: ``(root, the val2017 annotation file)``."""
    from mmpixpro.testing import toy_data

    root = str(tmp_path_factory.mktemp('coco'))
    return root, toy_data.make_coco(root)['val2017']


@pytest.fixture
def photos_dir():
    return PHOTOS


@pytest.fixture
def photos(tmp_path):
    """Four bundled photos in a folder of their own: one iteration an epoch
    of the tiny demo config."""
    import shutil

    folder = tmp_path / 'photos'
    folder.mkdir()
    for name in sorted(n for n in os.listdir(PHOTOS) if n.endswith('.png'))[:4]:
        shutil.copy(osp.join(PHOTOS, name), folder)
    return str(folder)


@pytest.fixture(scope='session')
def demo_checkpoint(tmp_path_factory):
    """A real (two-iteration) pre-training checkpoint of the demo config."""
    from mmpixpro.testing import pretrain

    work_dir = tmp_path_factory.mktemp('demo_pretrain')
    return pretrain(DEMO_CONFIG, work_dir, iters=2, data_root=PHOTOS)


@pytest.fixture(scope='session')
def fpn_head_setup(tmp_path_factory):
    """The FPN + towers config made tiny (ResNet-18), dumped, and a checkpoint
    of a model built from it (seed 1)."""
    import torch

    from mmpixpro.registry import MODELS
    from mmpixpro.testing import tiny_config

    root = tmp_path_factory.mktemp('fpn')
    cfg = tiny_config(FPN_HEAD_CONFIG, root, data_root=PHOTOS)
    config = str(root / 'fpn_tiny.py')
    cfg.dump(config)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    ckpt = str(root / 'fpn.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return config, ckpt


@pytest.fixture(scope='session')
def demo_features(demo_checkpoint):
    """C5 of two photos (96 x 96) for the demo checkpoint and the random init
    (``mmpixpro.apis``)."""
    from mmpixpro.apis import dense_features, init_model, load_image, preprocess

    out = {}
    for name, ckpt in [('checkpoint', demo_checkpoint), ('random', None)]:
        model = init_model(DEMO_CONFIG, ckpt, seed=0)
        images = [load_image(osp.join(PHOTOS, p), [96, 96]) for p in SQUARE_WIDE]
        out[name] = dense_features(model, preprocess(model, images))['C5']
    return out
