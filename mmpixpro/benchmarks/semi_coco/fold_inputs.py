"""What a fold run reads, identified by content: its config (with every
``_base_`` file) and its fold's annotation file.

A fold run is skipped when it finished before with the same inputs
(:mod:`.run_record`). The config counts by the SHA-256 of the merged config
as mmengine builds it (the top file and every ``_base_`` file it pulls in;
the options count on their own), written as JSON with sorted keys: editing
a value in a ``_base_`` file changes it, editing a comment does not. The
fold file counts by the SHA-256 of its bytes, read where the run reads it:
``train_dataloader.dataset.data_root`` joined with the fold's ``ann_file``
(as mmdet's datasets join them), relative to the folder the run starts in.
"""

import argparse
import hashlib
import json
import os.path as osp
from typing import Any, NamedTuple, Optional, Sequence

from .run_record import sha256_file


class FoldInputs(NamedTuple):
    """The content digests of one fold run's inputs."""

    config_sha256: str
    ann_file: str  # the path the run reads
    ann_sha256: Optional[str]  # None: no such file (yet)


def parse_cfg_options(options: Sequence[str]) -> dict:
    """``key=value`` strings as the tools' ``--cfg-options`` read them."""
    from mmengine.config import DictAction

    if not options:
        return {}
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def canonical(value: Any) -> Any:
    """``value`` as JSON-able data with dict keys in a fixed order (other
    objects by their ``repr``)."""
    if isinstance(value, dict):
        items = sorted((repr(k), canonical(v)) for k, v in value.items())
        return [['dict'], *items]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(canonical(v) for v in value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def config_sha256(cfg) -> str:
    """The SHA-256 of a loaded (merged) config's content."""
    text = json.dumps(canonical(cfg.to_dict()), separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def fold_inputs(
    config: str, ann_file: str, cfg_options: Sequence[str], run_dir: str
) -> FoldInputs:
    """The digests of a fold run of ``config`` on ``ann_file`` (relative to
    the config's ``data_root``), started in ``run_dir``."""
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    digest = config_sha256(cfg)  # the options count on their own
    cfg.merge_from_dict(parse_cfg_options(cfg_options))
    data_root = cfg.get('train_dataloader', {}).get('dataset', {}).get('data_root')
    path = ann_file
    if not osp.isabs(path) and data_root:
        path = osp.join(data_root, path)
    path = osp.join(run_dir, path)
    ann_digest = sha256_file(path) if osp.isfile(path) else None
    return FoldInputs(digest, osp.normpath(path), ann_digest)
