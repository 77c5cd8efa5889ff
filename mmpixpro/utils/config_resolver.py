"""One way to name a config, for every tool and launch script.

A config argument is, in this order:

1. a path to a file (``configs/selfsup/pixpro_r50_fpn_head.py``, any
   folder);
2. ``mmpixpro::<path under configs/>`` (``mmpixpro::selfsup/...py``,
   ``mmpixpro::benchmarks/mmdet/...py``), the prefix mmengine's ``_base_``
   takes: a config shipped with the package (``mmpixpro/.mim/configs``);
3. a bare name from the model index (``model-index.yml`` and its
   metafiles): a config's file name with or without ``.py``, or its model
   ``Name``, from any folder.

Anything else raises :class:`ConfigNotFoundError`, one line that names the
three shipped configs closest to what was given. The launch scripts resolve
once, before torchrun starts (``python -m mmpixpro.utils.config_resolver
NAME`` prints the path, or the line on stderr with exit status 2).
"""

import difflib
import functools
import os.path as osp
import re
import sys
from typing import Dict, List

PREFIX = 'mmpixpro::'
MIM_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')
CONFIGS_DIR = osp.join(MIM_DIR, 'configs')


class ConfigNotFoundError(FileNotFoundError):
    """A config argument that is no file, no shipped config and no name of
    the model index."""

    def __str__(self) -> str:  # one line, not FileNotFoundError's errno form
        return self.args[0]


@functools.lru_cache(maxsize=1)
def indexed_configs() -> Dict[str, str]:
    """``{name: path under configs/}`` of every model of the model index,
    by config file name (with and without ``.py``) and by model ``Name``."""
    import yaml

    with open(osp.join(MIM_DIR, 'model-index.yml'), encoding='utf-8') as f:
        index = yaml.safe_load(f)
    names: Dict[str, str] = {}
    for metafile in index.get('Import', []):
        with open(osp.join(MIM_DIR, metafile), encoding='utf-8') as f:
            models = yaml.safe_load(f).get('Models', [])
        for model in models:
            rel = osp.relpath(model['Config'], 'configs')
            base = osp.basename(rel)
            names.update({base: rel, base[: -len('.py')]: rel, model['Name']: rel})
    return names


def _tokens(name: str) -> set:
    return set(re.split(r'[_\-./:]+', name.lower())) - {'', 'py', 'mmpixpro'}


def closest_configs(name: str, n: int = 3) -> List[str]:
    """The ``n`` shipped configs closest to ``name`` (most name parts in
    common, then most similar text), in the form it was given
    (``mmpixpro::<path>`` or a file name)."""
    configs = sorted(set(indexed_configs().values()))
    if name.startswith(PREFIX):
        candidates = [PREFIX + rel for rel in configs]
    else:
        candidates = [osp.basename(rel) for rel in configs]
        name = osp.basename(name)
    wanted = _tokens(name)

    def score(candidate: str) -> tuple:
        ratio = difflib.SequenceMatcher(None, name, candidate).ratio()
        return len(wanted & _tokens(candidate)), ratio

    return sorted(candidates, key=score, reverse=True)[:n]


def resolve_config(name: str) -> str:
    """The file of the config argument ``name`` (see the module docstring).

    Raises:
        ConfigNotFoundError: ``name`` is none of the three forms.
    """
    if osp.isfile(name):
        return name
    if name.startswith(PREFIX):
        path = osp.join(CONFIGS_DIR, name[len(PREFIX) :])
        if osp.isfile(path):
            return path
        what = f'no config {name[len(PREFIX) :]!r} under {CONFIGS_DIR}'
    else:
        rel = indexed_configs().get(name) if '/' not in name else None
        if rel is not None:
            return osp.join(CONFIGS_DIR, rel)
        what = 'no such file, nor a config name of the model index'
    closest = ', '.join(closest_configs(name))
    raise ConfigNotFoundError(f'config {name!r} not found ({what}); closest: {closest}')


def main(argv=None) -> None:
    """Print the file of one config argument, or its error line on stderr
    with exit status 2 (for the launch scripts)."""
    import argparse

    parser = argparse.ArgumentParser(description='the file of a config argument')
    parser.add_argument('config', help='a file, mmpixpro::<path> or a config name')
    parser.add_argument('--prog', default='mmpixpro', help='name in the error line')
    args = parser.parse_args(argv)
    try:
        print(resolve_config(args.config))
    except ConfigNotFoundError as error:
        print(f'{args.prog}: error: {error}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
