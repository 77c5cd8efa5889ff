"""Run in a fresh process by test_no_patches.py (not a test module).

``python library_probe.py without CONFIG OUT.json``: mmdet's Runner on
CONFIG for its iterations, mmpixpro not imported; writes what the run was
made of (:func:`describe`) and its losses, then what ``mmpixpro.Name`` finds
from mmdet's scope (:func:`found_by_scope`, which imports mmpixpro).

``python library_probe.py with CONFIG OUT.json``: the libraries' modules
imported, a snapshot of them (:func:`snapshot`), every module of mmpixpro
imported (but the opt-in ``mmpixpro.engine.safe_checkpoint_loading``), the
snapshot compared (:func:`changes`), the registries walked for mmpixpro
classes; then the same run, the config's ``custom_imports`` importing
``mmpixpro.benchmarks`` as the benchmark configs do.
"""

import importlib
import inspect
import json
import pkgutil
import sys

LIBRARIES = ('mmengine', 'mmcv', 'mmdet', 'mmseg', 'mmpretrain')
# Each library's main modules, imported before the snapshot (a module that
# mmpixpro imports first is only new, not changed, and not compared).
MODULES = [
    f'{lib}.{sub}'
    for lib, subs in (
        ('mmengine', 'config dataset evaluator fileio hooks hub logging model '
                     'optim registry runner visualization'),
        ('mmcv', 'cnn ops transforms'),
        ('mmdet', 'datasets engine evaluation models registry structures utils '
                  'visualization'),
        ('mmseg', 'datasets engine evaluation models registry utils visualization'),
        ('mmpretrain', 'datasets engine evaluation models registry structures '
                       'utils visualization'),
    )
    for sub in subs.split()
]  # fmt: skip
# The opt-in that makes mmengine read checkpoints with mmpixpro's reader
# (configs' custom_imports, our tools): not imported by `import mmpixpro`.
OPT_IN = 'mmpixpro.engine.safe_checkpoint_loading'


def _contents(value):
    """A shallow copy of a dict / list / set, else None."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, set)):
        return list(value)
    return None


def _same(before, now) -> bool:
    """Containers with the same members (the same objects), in order."""
    if isinstance(before, dict):
        same = before.keys() == now.keys()
        return same and all(now[k] is v for k, v in before.items())
    now = list(now)
    return len(before) == len(now) and all(a is b for a, b in zip(before, now))


def snapshot() -> dict:
    """Of every imported module of the libraries: its names and their
    objects, with the members of its dicts / lists; of every class defined
    or named there: its ``__dict__``, with the members of its dicts / lists;
    of every registry: its classes and its children."""
    from mmengine.registry import Registry

    modules, classes, registries = {}, {}, {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split('.')[0] not in LIBRARIES:
            continue
        names = dict(vars(module))
        members = {
            k: _contents(v)
            for k, v in names.items()
            if not k.startswith('__') and _contents(v) is not None
        }
        modules[name] = (module, names, members)
        for value in names.values():
            if inspect.isclass(value) and id(value) not in classes:
                attrs = dict(value.__dict__)
                inner = {k: _contents(v) for k, v in attrs.items()}
                classes[id(value)] = (value, attrs, inner)
            if isinstance(value, Registry) and id(value) not in registries:
                registries[id(value)] = (
                    value,
                    dict(value._module_dict),
                    dict(value._children),
                )
    return dict(modules=modules, classes=classes, registries=registries)


def _ours(registry) -> bool:
    """One of mmpixpro's registries (added as a child of its parent)."""
    import mmpixpro.registry

    return any(registry is r for r in vars(mmpixpro.registry).values())


def changes(before: dict) -> list:
    """What differs from ``before``, one line each."""
    found = []
    for name, (module, names, members) in before['modules'].items():
        now = vars(module)
        for key, value in names.items():
            if key not in now:
                found.append(f'{name}.{key} removed')
            elif now[key] is not value:
                found.append(f'{name}.{key} replaced')
        for key in now.keys() - names.keys():
            if not inspect.ismodule(now[key]):  # a submodule imported since
                found.append(f'{name}.{key} added')
        for key, contents in members.items():
            if key in now and not _same(contents, now[key]):
                added = sorted(set(now[key]) - set(contents), key=str)
                found.append(f'{name}.{key} changed (added {added})')
    for cls, attrs, inner in before['classes'].values():
        where = f'{cls.__module__}.{cls.__qualname__}'
        now = cls.__dict__
        for key, value in attrs.items():
            if key not in now:
                found.append(f'{where}.{key} removed')
            elif now[key] is not value:
                found.append(f'{where}.{key} replaced')
            elif inner[key] is not None and not _same(inner[key], now[key]):
                found.append(f'{where}.{key} changed')
        found += [f'{where}.{key} added' for key in now.keys() - attrs.keys()]
    for registry, classes, children in before['registries'].values():
        where = f'registry {registry.scope}.{registry.name}'
        if not _same(classes, registry._module_dict):
            added = sorted(registry._module_dict.keys() - classes.keys())
            found.append(f'{where} changed (added {added})')
        for key, child in registry._children.items():
            if key in children and children[key] is not child:
                found.append(f'{where}: child {key} replaced')
            if key not in children and not _ours(child):
                found.append(f'{where}: child {key} added')
    return found


def mmpixpro_classes_elsewhere() -> list:
    """Classes of mmpixpro in a registry of another scope, from mmengine's
    root registries down (mmdet's, mmseg's, mmpretrain's are their
    children), after every registry of mmpixpro imported its locations."""
    import mmengine.registry as root
    from mmengine.registry import Registry

    import mmpixpro.registry as ours

    for registry in vars(ours).values():
        if isinstance(registry, Registry):
            registry.import_from_location()
    found, todo = [], [r for r in vars(root).values() if isinstance(r, Registry)]
    while todo:
        registry = todo.pop()
        todo += registry._children.values()
        if registry.scope == 'mmpixpro':
            continue
        for key, cls in registry._module_dict.items():
            if getattr(cls, '__module__', '').startswith('mmpixpro'):
                where = f'{registry.scope}.{registry.name}'
                found.append(f'{cls.__module__}.{key} in {where}')
    return sorted(set(found))


def describe(runner) -> dict:
    """Every class the run was made of (the runner, its model's modules, its
    hooks, loop, optimizer wrapper, dataset, message hub; their bases), each
    with where its methods were defined (file and line)."""
    parts = [
        runner,
        runner.train_loop,
        runner.optim_wrapper,
        runner.train_dataloader.dataset,
        runner.message_hub,
        runner.visualizer,
        *runner.hooks,
        *runner.model.modules(),
    ]
    out = {}
    for cls in {c for part in parts for c in type(part).__mro__}:
        methods = {}
        for key, value in vars(cls).items():
            if isinstance(value, (classmethod, staticmethod)):
                value = value.__func__
            elif isinstance(value, property):
                value = value.fget
            code = getattr(value, '__code__', None)
            if code is not None:
                methods[key] = (
                    f'{value.__module__}.{value.__qualname__} '
                    f'{code.co_filename}:{code.co_firstlineno}'
                )
        out[f'{cls.__module__}.{cls.__qualname__}'] = methods
    return out


def run(config: str, work_dir: str, custom_imports=None) -> dict:
    """Train with ``config``; its iterations, each iteration's losses and
    :func:`describe`."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    if custom_imports is not None:
        cfg.custom_imports = dict(imports=custom_imports, allow_failed_imports=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    losses = {
        k: scalars[k].data[0].tolist() for k in scalars if k.startswith('train/loss')
    }
    return dict(iterations=runner.iter, losses=losses, classes=describe(runner))


def found_by_scope() -> dict:
    """The module of each ``mmpixpro.Name`` an mmdet-scope build finds with
    mmpixpro not imported before (mmengine imports ``mmpixpro.registry`` for
    the scope, the registry its ``locations``), None when not found."""
    from mmdet.registry import DATASETS, HOOKS
    from mmengine.registry import MODEL_WRAPPERS, DefaultScope

    names = [
        (HOOKS, 'ProtocolBatchHook'),
        (HOOKS, 'PlainCheckpointHook'),
        (DATASETS, 'VOCDatasetWithDifficult'),
        (MODEL_WRAPPERS, 'CPUDistributedDataParallel'),  # as the Runner looks
    ]
    with DefaultScope.overwrite_default_scope('mmdet'):
        found = {name: registry.get(f'mmpixpro.{name}') for registry, name in names}
    return {k: getattr(v, '__module__', None) for k, v in found.items()}


def main(mode: str, config: str, out: str) -> None:
    result = {}
    if mode == 'with':
        for name in MODULES:
            importlib.import_module(name)
        before = snapshot()
        import mmpixpro
        import mmpixpro.benchmarks  # noqa: F401  (what the benchmark configs import)

        result['opt_in_imported'] = OPT_IN in sys.modules
        for module in pkgutil.walk_packages(mmpixpro.__path__, 'mmpixpro.'):
            if module.name != OPT_IN:
                importlib.import_module(module.name)
        result['changes'] = changes(before)
        result['elsewhere'] = mmpixpro_classes_elsewhere()
        result['run'] = run(config, out + '.work', ['mmpixpro.benchmarks'])
    else:
        result['run'] = run(config, out + '.work')
        result['mmpixpro_imported'] = sorted(
            m for m in sys.modules if m.split('.')[0] == 'mmpixpro'
        )
        result['found_by_scope'] = found_by_scope()
    with open(out, 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main(*sys.argv[1:])
