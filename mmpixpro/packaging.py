"""mmpixpro as an installed OpenMMLab package: ``mmpixpro::`` configs, ``.mim``.

mmengine resolves ``_base_ = 'mmpixpro::selfsup/<name>.py'`` (and
``mmengine.hub.get_config('mmpixpro::...')``) in three steps: the prefix must
be a key of ``mmengine.config.utils.MODULE2PACKAGE``; the package directory
comes from ``get_installed_path``; the config is read from
``<package>/.mim/configs/`` after ``<package>/.mim/model-index.yml`` was
loaded. :func:`register_config_package` (called by ``import mmpixpro``) does
the first step and makes the second exact for every kind of install.
"""

import os.path as osp
from typing import Callable, Optional, Sequence

PACKAGE = 'mmpixpro'
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
# modules that did `from mmengine.utils import get_installed_path`
_PATH_USERS = ('mmengine.utils', 'mmengine.config.config', 'mmengine.hub.hub')


def _package_path_first(get_installed_path: Callable[[str], str]) -> Callable:
    """``get_installed_path`` that answers this package's own directory.

    (mmengine joins the distribution's location with the package name, which
    for a PEP 660 editable install, the only editable kind setuptools >= 80
    makes, is site-packages and not the source tree.)
    """

    def wrapped(package: str) -> str:
        if package == PACKAGE:
            return PACKAGE_DIR
        return get_installed_path(package)

    wrapped.__wrapped__ = get_installed_path
    wrapped.mmpixpro = True
    return wrapped


def register_config_package(modules: Sequence[str] = _PATH_USERS) -> None:
    """Let mmengine resolve ``mmpixpro::`` config paths; idempotent.

    Adds ``mmpixpro`` to ``MODULE2PACKAGE`` and points mmengine's
    ``get_installed_path`` at the imported package for ``'mmpixpro'`` (other
    packages are answered as before). Modules of ``modules`` not imported
    yet are left alone; ``mmengine.hub`` imported later takes the patched
    function from ``mmengine.utils``.
    """
    import sys

    from mmengine.config import utils as config_utils  # imports the others

    config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    for name in modules:
        module = sys.modules.get(name)
        original = getattr(module, 'get_installed_path', None)
        if original is not None and not getattr(original, 'mmpixpro', False):
            module.get_installed_path = _package_path_first(original)


def config_file(name: str) -> str:
    """A config file path from a path or a ``mmpixpro::<rel path>`` name.

    Raises:
        FileNotFoundError: neither a file nor a config shipped with mmpixpro.
    """
    if osp.isfile(name):
        return name
    prefix = f'{PACKAGE}::'
    if name.startswith(prefix):
        path = osp.join(MIM_DIR, 'configs', name[len(prefix) :])
        if osp.isfile(path):
            return path
        raise FileNotFoundError(
            f'{name!r}: no such config in {osp.join(MIM_DIR, "configs")}'
        )
    raise FileNotFoundError(f'config file {name!r} not found')


def load_config(name: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile`` of :func:`config_file`, with ``--cfg-options``."""
    from mmengine.config import Config

    register_config_package()
    cfg = Config.fromfile(config_file(name))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
