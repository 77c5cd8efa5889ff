"""The record of a finished fold run: what produced its numbers.

A fold's work dir is reused when the runner is called again, so its numbers
count as "finished" only for the same inputs. After a run ends well the
runner writes ``{work_dir}/fold_run.json``::

    {"identity": {"checkpoint_sha256": ..., "config_sha256": ...,
                  "ann_file": ..., "ann_sha256": ..., "gpus": 8,
                  "auto_scale_lr": false, "cfg_options": [...]},
     "checkpoint": {"path": ..., "size": ..., "mtime": ...},
     "config": ..., "scalars": "<timestamp>/vis_data/scalars.json",
     "metrics": {"coco/bbox_mAP": ...}, "finished": "<UTC time>"}

A run is skipped only when the record's ``identity`` equals this call's (the
checkpoint, the config with its ``_base_`` files and the fold file by their
content (:mod:`.fold_inputs`): another checkpoint, or the same file changed,
is run again; the same bytes under another path are not) and the newest metrics
under the work dir are still those the record names. The record is removed
before a run starts, so a run that fails leaves none.
"""

import datetime
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmpixpro.utils.atomic_file import atomic_open
from mmpixpro.utils.no_follow import read_no_follow

from .aggregate import find_metrics

RECORD = 'fold_run.json'


def sha256_file(path: str, chunk: int = 1 << 22) -> str:
    """The SHA-256 of a file's content, read in 4 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for piece in iter(lambda: f.read(chunk), b''):
            digest.update(piece)
    return digest.hexdigest()


def run_identity(
    checkpoint_sha256: str,
    inputs,
    ann_file: str,
    gpus: int,
    auto_scale_lr: bool,
    cfg_options: Sequence[str],
) -> Dict:
    """What decides a fold run's numbers (see the module's docstring);
    ``inputs``: the config's and fold file's digests
    (:func:`~.fold_inputs.fold_inputs`)."""
    return {
        'checkpoint_sha256': checkpoint_sha256,
        'config_sha256': inputs.config_sha256,
        'ann_file': ann_file,
        'ann_sha256': inputs.ann_sha256,
        'gpus': gpus,
        'auto_scale_lr': bool(auto_scale_lr),
        'cfg_options': list(cfg_options),
    }


def read_record(work_dir: str) -> Optional[Dict]:
    """The record of ``work_dir``; None if it has none (or an unreadable
    one, or a symbolic link, never followed: each counts as none)."""
    try:
        record = json.loads(read_no_follow(osp.join(work_dir, RECORD), 1 << 20))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def differences(old: Dict, new: Dict) -> List[str]:
    """The identity fields that differ, in a readable form."""
    names = {
        'checkpoint_sha256': 'checkpoint',
        'config_sha256': 'config (or its _base_ files)',
        'ann_file': 'fold file',
        'ann_sha256': 'fold file content',
        'gpus': 'GPU count',
        'auto_scale_lr': '--auto-scale-lr',
        'cfg_options': '--cfg-options',
    }
    return [label for key, label in names.items() if old.get(key) != new.get(key)]


def finished(work_dir: str, identity: Dict) -> Tuple[bool, str]:
    """Whether ``work_dir`` holds a finished run of ``identity``.

    Returns:
        ``(True, '')``, or ``(False, why not)`` (``''`` when it never
        finished).
    """
    record = read_record(work_dir)
    if record is None:
        return False, ''
    old = record.get('identity')
    if not isinstance(old, dict) or old != identity:
        what = ', '.join(differences(old if isinstance(old, dict) else {}, identity))
        checkpoint = record.get('checkpoint', {}).get('path', '?')
        return False, f'finished before with another {what} ({checkpoint})'
    try:
        scalars, _ = find_metrics(work_dir)
    except ValueError:
        return False, 'its metrics are gone'
    if osp.relpath(scalars, work_dir) != record.get('scalars'):
        return False, 'a later run in the same folder changed its metrics'
    return True, ''


def clear_record(work_dir: str) -> None:
    """Remove the record before a run starts."""
    try:
        os.remove(osp.join(work_dir, RECORD))
    except FileNotFoundError:
        pass


def write_record(work_dir: str, identity: Dict, checkpoint: str, config: str) -> Dict:
    """Record a run that ended well (atomically).

    Raises:
        ValueError: the run left no metrics.
    """
    scalars, metrics = find_metrics(work_dir)
    stat = os.stat(checkpoint)
    record = {
        'identity': identity,
        'checkpoint': {
            'path': osp.abspath(checkpoint),
            'size': stat.st_size,
            'mtime': stat.st_mtime,
        },
        'config': osp.abspath(config),
        'scalars': osp.relpath(scalars, work_dir),
        'metrics': metrics,
        'finished': datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    with atomic_open(osp.join(work_dir, RECORD), 'w', overwrite=True) as f:
        json.dump(record, f, indent=2)
        f.write('\n')
    return record
