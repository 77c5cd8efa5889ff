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
