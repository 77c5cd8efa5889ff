"""Register every mmpixpro module and make ``mmpixpro`` the default scope.

``mmpixpro.utils.register_all_modules`` is the name mmengine calls for the
``mmpixpro`` scope (``Registry.import_from_location`` for a registry without
``locations``, ``mmengine.hub.get_model('mmpixpro::...')``), as it does for
every OpenMMLab project. ``utils`` imports nothing of mmpixpro but the
registry, the one layer below it (docs/en/notes/development.md): the
packages that register classes are the registries'
:data:`~mmpixpro.registry.LOCATIONS`, imported by name here as mmengine
imports a registry's ``locations`` when it first searches it.
"""

import datetime
import warnings
from importlib import import_module

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all modules so their registration takes effect.

    Args:
        init_default_scope (bool): Also make ``mmpixpro`` the current default
            scope (what ``default_scope='mmpixpro'`` in a config does inside
            a Runner). Defaults to True.
    """
    from mmpixpro.registry import LOCATIONS  # imports mmpretrain: only when called

    for location in LOCATIONS:
        import_module(location)

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is not None and current.scope_name == 'mmpixpro':
        return
    if current is not None:
        warnings.warn(
            f'The current default scope "{current.scope_name}" is not '
            '"mmpixpro"; a new one named "mmpixpro-<timestamp>" is created.'
        )
    # The latest created scope is the current one: a scope of another
    # project created after ours (a downstream Runner) is left behind here.
    name = 'mmpixpro'
    if DefaultScope.check_instance_created(name):
        name = f'mmpixpro-{datetime.datetime.now()}'
    DefaultScope.get_instance(name, scope_name='mmpixpro')
