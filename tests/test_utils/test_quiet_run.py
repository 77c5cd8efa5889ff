"""A normal pre-training run says nothing that reads as trouble: mmengine
finds an ``mmpixpro`` registry in every registry tree it builds from (no
"Failed to search registry with scope mmpixpro"), and building the models
gives no "Unnecessary conv bias" warning (the bias before the projector's BN
is the release's, kept for its checkpoints)."""

import glob
import os.path as osp
import warnings

import mmengine.registry as mmengine_registry
import mmpretrain.registry as mmpretrain_registry
import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import Registry

from mmpixpro.registry import MODELS

# mmengine's registries that mmengine itself builds from with the default
# scope (its runner, hooks, loops, weight initialisation, strategies).
MMENGINE_BUILT = [
    'DATA_SAMPLERS', 'DATASETS', 'EVALUATOR', 'FUNCTIONS', 'HOOKS', 'INFERENCERS',
    'LOG_PROCESSORS', 'LOOPS', 'METRICS', 'MODEL_WRAPPERS', 'MODELS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIM_WRAPPERS', 'OPTIMIZERS',
    'PARAM_SCHEDULERS', 'RUNNERS', 'STRATEGIES', 'TRANSFORMS', 'VISBACKENDS',
    'VISUALIZERS', 'WEIGHT_INITIALIZERS',
]  # fmt: skip


def root(registry: Registry) -> Registry:
    while registry.parent is not None:
        registry = registry.parent
    return registry


def registries(module):
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, Registry) and not name.startswith('MMENGINE_')
    }


def test_every_registry_tree_has_an_mmpixpro_scope():
    import mmpixpro.registry  # noqa: F401  (what mmengine imports by scope)

    trees = {f'mmengine {n}': getattr(mmengine_registry, n) for n in MMENGINE_BUILT}
    trees.update(
        {f'mmpretrain {n}': r for n, r in registries(mmpretrain_registry).items()}
    )
    for name, registry in trees.items():
        found = root(registry)._search_child('mmpixpro')
        assert found is not None and found.scope == 'mmpixpro', name


def test_the_demo_pretraining_log_has_no_registry_warning(demo_checkpoint):
    (log,) = glob.glob(osp.join(osp.dirname(demo_checkpoint), '*', '*.log'))
    text = open(log).read()
    assert 'Exp name' in text or 'Iter(train)' in text  # the run's own log
    assert 'Failed to search registry' not in text


@pytest.mark.parametrize(
    'config',
    [
        'pixpro_r18_c5_1xb4-coslr-40e_demo.py',
        'pixpro-l2_r50_c5_8xb128-coslr-100e_in1k.py',  # PPM with conv-BN-ReLU
    ],
)
def test_models_build_without_the_conv_bias_warning(config):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'selfsup', config))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = MODELS.build(cfg.model)
    assert not [w for w in caught if 'conv bias' in str(w.message)]
    # the bias is still there: the release's checkpoints and ours load
    assert 'projector.projector.0.conv.bias' in model.state_dict()
