"""Checkpoints written as plain data, with a digest of their tensors."""

import copy
from typing import Any, Callable, List

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from mmpixpro.engine.checkpoint_digest import add_digest
from mmpixpro.registry import HOOKS

PLAIN_KEY = 'plain_data'


def _tensor(array: np.ndarray):
    """``array`` as a tensor of its dtype, or ``None`` (strings, objects)."""
    try:
        return torch.from_numpy(array.copy(order='C'))
    except TypeError:
        return None


def to_plain(node: Any, place: list, record: List[list]) -> Any:
    """``node`` with mmengine's ``HistoryBuffer`` objects and numpy values
    turned into tensors, numbers and containers; each one's kind and place
    appended to ``record``. Containers that hold one are copied, never
    changed (they may be a live object's, e.g. a scheduler's lists)."""
    if isinstance(node, HistoryBuffer):
        record.append(['HistoryBuffer', place])
        log, count = node.data
        return dict(
            log_history=torch.from_numpy(np.array(log)),
            count_history=torch.from_numpy(np.array(count)),
            max_length=int(node.max_length),
        )
    if isinstance(node, (np.ndarray, np.generic)):
        tensor = _tensor(np.asarray(node))
        if tensor is None:
            return node
        record.append(['ndarray' if isinstance(node, np.ndarray) else 'numpy', place])
        return tensor
    if isinstance(node, dict):
        items = {k: to_plain(v, place + [k], record) for k, v in node.items()}
        if all(items[k] is v for k, v in node.items()):
            return node
        plain = copy.copy(node)
        plain.update(items)
        return plain
    if isinstance(node, (list, tuple)):
        items = [to_plain(v, place + [i], record) for i, v in enumerate(node)]
        if all(a is b for a, b in zip(items, node)):
            return node
        return items if isinstance(node, list) else tuple(items)
    return node


def _from_plain(kind: str, value: Any) -> Any:
    if kind == 'HistoryBuffer':
        return HistoryBuffer(
            value['log_history'].numpy(),
            value['count_history'].numpy(),
            value['max_length'],
        )
    array = value.numpy()
    return array if kind == 'ndarray' else array[()]


def _replace_at(node: Any, place: list, fn: Callable[[Any], Any]) -> Any:
    if not place:
        return fn(node)
    key = place[0]
    child = _replace_at(node[key], place[1:], fn)
    if isinstance(node, tuple):
        return node[:key] + (child,) + node[key + 1 :]
    node[key] = child
    return node


def from_plain(checkpoint: dict) -> int:
    """Turn back, in place, what :func:`to_plain` wrote into ``checkpoint``
    (its places are in ``meta['plain_data']``, removed); returns how many."""
    meta = checkpoint.get('meta')
    record = meta.pop(PLAIN_KEY, None) if isinstance(meta, dict) else None
    if not isinstance(record, list):
        return 0
    for kind, place in record:
        top = place[0]
        checkpoint[top] = _replace_at(
            checkpoint[top], place[1:], lambda v, kind=kind: _from_plain(kind, v)
        )
    return len(record)


# The benchmark configs (mmdet / mmseg / mmpretrain scopes) name it
# type='mmpixpro.PlainCheckpointHook'.
@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Write checkpoints as plain data with a SHA-256 digest of their
    tensors; turn the plain data back when one is loaded.

    mmengine writes the message hub's ``HistoryBuffer`` objects and numpy
    values (``eta``, the buffers' arrays) into a checkpoint, which
    ``torch.load(weights_only=True)`` refuses (torch's default since 2.6).
    Before a checkpoint is saved, this hook turns them into tensors (same
    dtype), numbers and containers, records their places in
    ``meta['plain_data']``, and adds the digest of every tensor
    (``meta['tensor_sha256']``, see :mod:`mmpixpro.engine.checkpoint_digest`).
    Such a checkpoint loads with a plain ``torch.load(f, weights_only=True)``
    anywhere, without mmpixpro and without allowing any type. After a
    checkpoint is loaded (the digest was checked by the reader), the
    recorded values become ``HistoryBuffer`` and numpy again, as mmengine's
    ``Runner.resume`` expects them; a Runner without this hook skips the
    buffers with a warning (logging statistics only).

    Priority ``LOWEST``: the digest covers what every other hook put into
    the checkpoint before it.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        record: List[list] = []
        for key in list(checkpoint):
            checkpoint[key] = to_plain(checkpoint[key], [key], record)
        meta = checkpoint.setdefault('meta', {})
        if record:
            meta[PLAIN_KEY] = record
        add_digest(checkpoint)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from_plain(checkpoint)
