"""Checkpoints that load with ``torch.load(weights_only=True)``.

Since torch 2.6 ``torch.load`` refuses to unpickle anything but tensors and
a few builtin containers, and mmengine 0.10.7 calls it without
``weights_only``. A Runner checkpoint also holds the MessageHub's
``HistoryBuffer`` objects and numpy arrays / scalars. Rather than turning
``weights_only`` off (which lets any checkpoint run code when loaded), the
few extra types that mmengine and this project write are allowed explicitly;
everything else is still refused by torch.

``HistoryBuffer.__getstate__`` of mmengine 0.10.7 also pickles its class-level
statistics functions, which need ``getattr`` to unpickle; allowing
``getattr`` would widen what a checkpoint can do, so the buffers are written
without them instead (``__setstate__`` restores them from the class).
"""

import re
from typing import List

import numpy as np
import torch


def checkpoint_safe_types() -> List[object]:
    """The non-tensor types an mmengine / mmpixpro checkpoint contains."""
    from mmengine.logging.history_buffer import HistoryBuffer

    types: List[object] = [HistoryBuffer, np.ndarray, np.dtype]
    # numpy arrays and scalars pickle through these reconstructors; their
    # module moved from ``numpy.core`` to ``numpy._core`` in numpy 2.
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    types += [_reconstruct, scalar]
    # numpy >= 1.25 pickles each dtype through its own class.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [
            getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')
        ]
    return types


def _history_buffer_state(self) -> dict:
    """The state of a ``HistoryBuffer`` without its statistics functions."""
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_checkpoint_types() -> None:
    """Make Runner checkpoints loadable under ``weights_only=True``.

    Allows :func:`checkpoint_safe_types` and writes ``HistoryBuffer``
    without functions. Idempotent; the allow-list is skipped on torch
    versions without ``add_safe_globals``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_state
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(checkpoint_safe_types())


# Parts of a checkpoint that mmengine would parse as Python source (and so
# run): ``Runner.resume`` reads ``meta['config']`` with
# ``Config.fromstring(..., '.py')`` to compare GPU counts.
CODE_FIELDS = ('config',)


def load_mapped(path: str) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU with the tensors of
    a file in torch's zip format memory-mapped, not read: the names, shapes
    and ``meta`` cost little however large the file. Files of the legacy
    format are read whole. Raises what ``torch.load`` raises."""
    with open(path, 'rb') as f:
        zipped = f.read(4) == b'PK\x03\x04'
    return torch.load(path, map_location='cpu', weights_only=True, mmap=zipped)


def drop_code_fields(checkpoint: object) -> List[str]:
    """Remove from ``checkpoint['meta']`` what mmengine would execute; returns
    the removed keys (``meta['config']``: mmengine and mmpixpro write the
    run's config as ``meta['cfg']``, which nothing executes)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict):
        return []
    return [key for key in CODE_FIELDS if meta.pop(key, None) is not None]


def load_error_reason(error: BaseException) -> str:
    """One line saying why ``torch.load`` failed, for a person: the blocked
    global of a refused pickle, an empty or truncated file, ..."""
    text = str(error)
    blocked = re.search(r'GLOBAL ([\w.]+)', text)
    if blocked:
        return (
            f'it holds {blocked.group(1)}, which is code, not data: refused '
            'without running it. Checkpoints written by mmengine / mmpixpro '
            'hold no such thing; do not load a file you do not trust with '
            'weights_only=False'
        )
    if isinstance(error, EOFError) or 'Ran out of input' in text:
        return 'the file ends before its data does (empty or truncated)'
    if 'central directory' in text or 'zip archive' in text:
        return 'not a complete PyTorch file (truncated or damaged)'
    if 'invalid load key' in text:
        return 'not a PyTorch checkpoint (unknown contents)'
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else type(error).__name__


def state_dict_mismatches(model, checkpoint: dict, revise_keys=()) -> str:
    """What of ``checkpoint`` (or its ``state_dict``) does not fit ``model``:
    ``''`` when every tensor name and shape matches, else a summary such as
    ``'3 shapes differ: backbone.conv1.weight (64, 3, 7, 7) != (64, 3, 3, 3)
    ...; 12 missing: ...; 5 unexpected: ...'`` (a few names of each)."""
    state = checkpoint.get('state_dict', checkpoint)
    for pattern, replacement in revise_keys:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    own = model.state_dict()
    shapes = [
        f'{k} {tuple(state[k].shape)} != {tuple(v.shape)}'
        for k, v in own.items()
        if k in state and hasattr(state[k], 'shape') and state[k].shape != v.shape
    ]
    missing = [k for k in own if k not in state and 'num_batches_tracked' not in k]
    unexpected = [k for k in state if k not in own]
    parts = []
    for what, items in (
        ('shapes differ', shapes),
        ('missing', missing),
        ('unexpected', unexpected),
    ):
        if items:
            more = ', ...' if len(items) > 3 else ''
            parts.append(f'{len(items)} {what}: {", ".join(items[:3])}{more}')
    return '; '.join(parts)
