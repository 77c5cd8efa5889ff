"""Register every mmpixpro module and make ``mmpixpro`` the default scope."""

import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all modules so their registration takes effect.

    Args:
        init_default_scope (bool): Also make ``mmpixpro`` the current default
            scope (what ``default_scope='mmpixpro'`` in a config does inside
            a Runner). Defaults to True.
    """
    import mmpixpro.datasets  # noqa: F401
    import mmpixpro.engine  # noqa: F401
    import mmpixpro.models  # noqa: F401

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
