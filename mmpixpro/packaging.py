"""mmpixpro as an installed OpenMMLab package: ``mmpixpro::`` configs, ``.mim``.

mmengine resolves ``_base_ = 'mmpixpro::selfsup/<name>.py'`` (and
``mmengine.hub.get_config('mmpixpro::...')``) in three steps: the prefix must
be a key of ``mmengine.config.utils.MODULE2PACKAGE``; the package directory
is ``get_installed_path('mmpixpro')``, ``<distribution location>/mmpixpro``;
the config is read from ``<package>/.mim/configs/`` after
``<package>/.mim/model-index.yml`` was loaded. :func:`register_config_package`
(called by ``import mmpixpro``) does the first step: it adds ``mmpixpro`` to
that dict, the one way mmengine offers to name a package's configs, and
changes nothing else of mmengine.

The second step needs ``<distribution location>/mmpixpro`` to be the
package, and mmengine's own ``get_installed_path`` is used as it is. After a
regular install it is the installed package. After an editable install
(PEP 660, the only kind setuptools >= 80 makes) the location is
site-packages, which holds no ``mmpixpro/``: ``mmpixpro::`` configs and
``mim train / run / search mmpixpro`` fail (``mim`` 0.3.9 finds a package
there too and cannot be told otherwise). :func:`link_editable_install` (run
by ``tools/install.sh`` after its editable install) makes
``<site-packages>/mmpixpro`` a link to the source package, the layout of a
regular install: mim and mmengine find ``mmpixpro/.mim/`` there, and
``import mmpixpro`` imports the same files (the link is found before
setuptools' editable finder, which leads to the same folder). The link is
added to the distribution's ``RECORD``, so ``pip uninstall mmpixpro``
removes it. This project's tools name configs through
:func:`config_file`, which reads this package's own ``.mim/`` and needs
neither.
"""

import json
import os
import os.path as osp
import sys
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

PACKAGE = 'mmpixpro'
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')


def register_config_package() -> None:
    """Let mmengine resolve ``mmpixpro::`` config paths; idempotent.

    Adds ``mmpixpro`` to mmengine's ``MODULE2PACKAGE`` (a name added, none
    changed: the one registration ``import mmpixpro`` makes outside its own
    registries).
    """
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)


def config_file(name: str) -> str:
    """The file of a config argument: a path, ``mmpixpro::<path under
    configs/>`` or a config name of the model index
    (:func:`mmpixpro.utils.config_resolver.resolve_config`).

    Raises:
        FileNotFoundError: none of these, naming the three closest configs.
    """
    from mmpixpro.utils.config_resolver import resolve_config

    return resolve_config(name)


def load_config(name: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile`` of :func:`config_file`, with ``--cfg-options``."""
    from mmengine.config import Config

    register_config_package()
    cfg = Config.fromfile(config_file(name))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def editable_source(dist) -> Optional[str]:
    """The source folder of an editable install of ``dist`` (from its
    ``direct_url.json``), else None."""
    try:
        direct = json.loads(dist.read_text('direct_url.json') or '{}')
    except ValueError:
        return None
    if not direct.get('dir_info', {}).get('editable'):
        return None
    url = urlparse(direct.get('url', ''))
    return unquote(url.path) if url.scheme == 'file' else None


def link_editable_install(log: Callable[[str], None] = print) -> Optional[str]:
    """Make ``<site-packages>/mmpixpro`` a link to the package of the
    editable install's source (see the module docstring); idempotent.
    Returns the link, or None when the install is not editable (a regular
    install has the package there already).

    Raises:
        FileExistsError: ``<site-packages>/mmpixpro`` is a folder (left by
            another install), which is not replaced.
        FileNotFoundError: mmpixpro is not installed, or its source has no
            ``mmpixpro/`` (moved since the install).
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(PACKAGE)
    except PackageNotFoundError:
        raise FileNotFoundError(
            f'{PACKAGE} is not installed in {sys.prefix}: pip install -e . first'
        ) from None
    source = editable_source(dist)
    if source is None:
        log(f'{PACKAGE} is not an editable install: nothing to link')
        return None
    target = osp.join(source, PACKAGE)
    if not osp.isfile(osp.join(target, '__init__.py')):
        raise FileNotFoundError(
            f'the editable install of {PACKAGE} points at {source}, which has no '
            f'{PACKAGE}/ package (moved?): install it again with pip install -e'
        )
    site = str(dist.locate_file(''))
    link = osp.join(site, PACKAGE)
    if osp.islink(link) and osp.realpath(link) == osp.realpath(target):
        log(f'{link} -> {target} (already)')
        return link
    if osp.lexists(link) and not osp.islink(link):
        raise FileExistsError(
            f'{link} exists and is not a link (left by another install?): '
            f'pip uninstall {PACKAGE}, remove it, and install again'
        )
    if osp.islink(link):
        os.unlink(link)  # a link to a source folder that moved
    os.symlink(target, link, target_is_directory=True)
    record = next((f for f in dist.files or () if f.name == 'RECORD'), None)
    if record is not None:
        path = str(dist.locate_file(record))
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
        if f'{PACKAGE},,' not in lines:
            with open(path, 'a', encoding='utf-8') as f:
                f.write(f'{PACKAGE},,\n')
    log(f'{link} -> {target}: mim and mmengine find {PACKAGE}/.mim there')
    return link
