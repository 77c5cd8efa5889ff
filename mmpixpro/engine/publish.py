"""A checkpoint to share: weights and ``meta``, nothing else.

A Runner checkpoint holds, besides the weights, the optimizer and scheduler
states, the message hub (logging state; written as plain data by
``PlainCheckpointHook``) and ``meta['cfg']``, the config as text. A
published checkpoint,
as OpenMMLab's ``publish_model.py`` writes it, keeps ``state_dict`` and
``meta`` only; here ``meta`` is also reduced to plain values (numbers, text,
lists and dicts of them; numpy numbers become Python numbers) without the
config text and the run's own paths, so that ``torch.load(f,
weights_only=True)`` reads it with nothing imported, in any project. It
carries the SHA-256 digest of its own tensors (``meta['tensor_sha256']``,
:mod:`.checkpoint_digest`), which mmpixpro's reader checks.

Its name is ``<out>_<YYYYMMDD>-<first 8 hex digits of its SHA-256>.pth``,
the name OpenMMLab's tool gives, so that a download can be checked against
its name (``sha256sum``).
"""

import datetime
import hashlib
import numbers
import os.path as osp
from typing import Callable, Optional

import numpy as np
import torch

from mmpixpro.utils.atomic_file import AtomicFile, output_folder

from .checkpoint_checks import load_error_reason
from .checkpoint_digest import DIGEST_KEY, add_digest

# meta keys not published: the config as text (meta['config'] is what
# mmengine runs when resuming), the paths of the run's own files, and what
# describes the whole training checkpoint (the places of its plain data, the
# digest of all its tensors: the published file gets its own).
DROPPED_META = ('cfg', 'config', 'hook_msgs', 'plain_data', DIGEST_KEY)
_DROP = object()


def plain(value):
    """``value`` as builtin numbers, text, lists and dicts, or ``_DROP``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        items = {k: plain(v) for k, v in value.items() if isinstance(k, (str, int))}
        return {k: v for k, v in items.items() if v is not _DROP}
    if isinstance(value, (list, tuple)):
        items = [plain(v) for v in value]
        return [v for v in items if v is not _DROP]
    return _DROP


def published(checkpoint: object, source: str = 'the checkpoint') -> dict:
    """``{'state_dict': tensors, 'meta': plain values}`` of a Runner
    checkpoint (or of a flat state dict).

    Raises:
        ValueError: ``checkpoint`` holds no state dict of tensors.
    """
    state = (
        checkpoint.get('state_dict', checkpoint)
        if isinstance(checkpoint, dict)
        else None
    )
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        raise ValueError(f'{source} holds no state dict of tensors')
    meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    meta = {
        k: v
        for k, v in (meta if isinstance(meta, dict) else {}).items()
        if k not in DROPPED_META
    }
    result = dict(state_dict=dict(state), meta=plain(meta))
    add_digest(result)
    return result


def published_name(out: str, sha256: str, date: Optional[datetime.date] = None) -> str:
    """``<out without .pth>_<YYYYMMDD>-<sha256[:8]>.pth``."""
    stem = out[: -len('.pth')] if out.endswith('.pth') else out
    date = date or datetime.date.today()
    return f'{stem}_{date:%Y%m%d}-{sha256[:8]}.pth'


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def publish_checkpoint(
    src: str,
    out: str,
    log: Optional[Callable[[str], None]] = None,
    *,
    read: Callable[[str], object],
) -> str:
    """Write the published form of checkpoint ``src``; returns its path,
    ``out`` named as :func:`published_name` says (written to a temporary
    file next to it, hashed, renamed: it appears whole or not at all; a file
    of the same name is the same file and is replaced).

    ``read`` reads ``src`` as data: the callers pass mmpixpro's reader
    (:func:`mmpixpro.engine.read_checkpoint`: ``weights_only=True``, the
    tensor digest checked), which this layer does not import.

    Raises:
        FileNotFoundError: no ``src``.
        ValueError: ``src`` cannot be read as data, or holds no weights.
    """
    if not osp.isfile(src):
        raise FileNotFoundError(f'checkpoint {src!r} not found')
    try:
        checkpoint = read(src)
    except Exception as e:
        reason = getattr(e, 'reason', None) or load_error_reason(e)
        raise ValueError(f'cannot load {src!r}: {reason}') from None
    result = published(checkpoint, repr(src))
    with output_folder(out):
        writer = AtomicFile(out, 'wb', overwrite=True)
        try:
            torch.save(result, writer.file)
            writer.file.flush()
            writer.path = published_name(out, file_sha256(writer.tmp))
        except BaseException as e:
            writer.discard()
            explained = writer.explain(e)  # disk full ...: one line
            if explained is not e:
                raise explained from e
            raise
        writer.commit()
    if log is not None:
        dropped = (
            sorted(k for k in checkpoint if k not in result)
            if isinstance(checkpoint, dict)
            else []
        )
        log(
            f'published {writer.path}: {len(result["state_dict"])} tensors and meta '
            f'({", ".join(sorted(result["meta"])) or "empty"}); left out: '
            f'{", ".join(dropped) or "nothing"}, meta {", ".join(DROPPED_META)}'
        )
    return writer.path
