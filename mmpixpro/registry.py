"""Registries of mmpixpro, scope ``mmpixpro``.

Every class of this package is registered here (and nowhere else) and found
lazily through ``locations``. A name without a scope is looked up in mmpixpro
first and then in its parents. Classes of other OpenMMLab projects are
reached with an explicit scope prefix, e.g. ``type='mmdet.FPN'`` or
``type='mmpretrain.ResNet'``; ours from their configs as
``type='mmpixpro.PretrainedTransferHook'``.

Most registries are children of mmpretrain's (plain names fall back to
mmpretrain, then mmengine). ``HOOKS``, ``DATASETS`` and ``MODEL_WRAPPERS``
hold classes that mmdet's, mmseg's and mmpretrain's Runners build from their
own scopes (the transfer hooks, ``VOCDatasetWithDifficult``, the CPU DDP
wrapper): they are children of mmengine's root registries, because
mmengine's ``Registry.get('mmpixpro.Name')`` from another project's registry
searches only that registry's children and the root's, not grandchildren
(mmengine 0.10). Their plain names fall back to mmengine's classes;
mmpretrain's hooks and datasets are ``mmpretrain.Name`` in our configs.
Naming the scope also imports this module (mmengine imports
``<scope>.registry``) and, through ``locations``, the modules that register
the classes.

Every registry that mmpretrain defines has an ``mmpixpro`` registry in its
tree here, and so has every mmengine registry that mmengine builds from
without an mmpretrain child (functions, inferencers, strategies): with
``default_scope='mmpixpro'`` mmengine looks for a registry of that scope in
the tree of whatever it builds (a weight initializer in ``init_weights``, a
batch augment in mmpretrain's data preprocessor) and warns "Failed to search
registry with scope mmpixpro" when there is none.
"""

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import Registry
from mmpretrain.registry import BATCH_AUGMENTS as MMPRETRAIN_BATCH_AUGMENTS
from mmpretrain.registry import DATA_SAMPLERS as MMPRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import EVALUATORS as MMPRETRAIN_EVALUATORS
from mmpretrain.registry import LOG_PROCESSORS as MMPRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRETRAIN_LOOPS
from mmpretrain.registry import METRICS as MMPRETRAIN_METRICS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS as MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
)
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import RUNNER_CONSTRUCTORS as MMPRETRAIN_RUNNER_CONSTRUCTORS
from mmpretrain.registry import RUNNERS as MMPRETRAIN_RUNNERS
from mmpretrain.registry import TASK_UTILS as MMPRETRAIN_TASK_UTILS
from mmpretrain.registry import TOKENIZER as MMPRETRAIN_TOKENIZER
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRETRAIN_VISUALIZERS
from mmpretrain.registry import WEIGHT_INITIALIZERS as MMPRETRAIN_WEIGHT_INITIALIZERS

#: Every package named in a registry's ``locations`` below: importing them
#: registers every class of mmpixpro (``mmpixpro.utils.register_all_modules``).
LOCATIONS = ('mmpixpro.datasets', 'mmpixpro.models', 'mmpixpro.engine')

RUNNERS = Registry('runner', parent=MMPRETRAIN_RUNNERS, locations=['mmpixpro.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMPRETRAIN_RUNNER_CONSTRUCTORS
)
LOOPS = Registry('loop', parent=MMPRETRAIN_LOOPS, locations=['mmpixpro.engine'])
# HOOKS, DATASETS, MODEL_WRAPPERS: children of mmengine's (found from other
# projects' scopes, see above)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmpixpro.engine'])
LOG_PROCESSORS = Registry('log processor', parent=MMPRETRAIN_LOG_PROCESSORS)
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmpixpro.datasets']
)
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMPRETRAIN_DATA_SAMPLERS,
    locations=['mmpixpro.datasets'],
)
TRANSFORMS = Registry(
    'transform', parent=MMPRETRAIN_TRANSFORMS, locations=['mmpixpro.datasets']
)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS)
MODELS = Registry('model', parent=MMPRETRAIN_MODELS, locations=['mmpixpro.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmpixpro.engine'],
)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMPRETRAIN_WEIGHT_INITIALIZERS
)
BATCH_AUGMENTS = Registry('batch augment', parent=MMPRETRAIN_BATCH_AUGMENTS)
TASK_UTILS = Registry('task util', parent=MMPRETRAIN_TASK_UTILS)
TOKENIZER = Registry('tokenizer', parent=MMPRETRAIN_TOKENIZER)
OPTIMIZERS = Registry(
    'optimizer', parent=MMPRETRAIN_OPTIMIZERS, locations=['mmpixpro.engine']
)
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMPRETRAIN_OPTIM_WRAPPERS,
    locations=['mmpixpro.engine'],
)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmpixpro.engine'],
)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMPRETRAIN_PARAM_SCHEDULERS,
    locations=['mmpixpro.engine'],
)
METRICS = Registry('metric', parent=MMPRETRAIN_METRICS, locations=['mmpixpro.engine'])
EVALUATORS = Registry('evaluator', parent=MMPRETRAIN_EVALUATORS)
VISBACKENDS = Registry(
    'vis_backend', parent=MMPRETRAIN_VISBACKENDS, locations=['mmpixpro.engine']
)
VISUALIZERS = Registry(
    'visualizer', parent=MMPRETRAIN_VISUALIZERS, locations=['mmpixpro.engine']
)
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS)
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES)
