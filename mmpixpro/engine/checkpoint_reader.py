"""The one reader of checkpoints: every file, URL and ``scheme://`` name that
a config or a tool of mmpixpro gives is read here, as data from a stranger.

- ``torch.load(..., weights_only=True)``, always passed explicitly: whatever
  torch's default is (``False`` before 2.6) and whatever
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` says (it changes only calls that do
  not pass it), a pickle that would run code is refused without running.
- URLs and schemes are fetched into a local cache first
  (:mod:`.checkpoint_download`), then read as a local file is.
- A checkpoint that carries a tensor digest
  (:mod:`mmpixpro.engine.checkpoint_digest`) must match it (a file this
  process checked before and that is unchanged since is not hashed again).
- Every refusal is one line, :class:`CheckpointError` ``cannot load SOURCE:
  REASON``, never torch's advice of several paragraphs.
- Checkpoints written before mmpixpro wrote plain data (mmengine's
  ``HistoryBuffer`` objects and numpy values in them) are read with exactly
  those types allowed for this one read: numpy's array and scalar
  constructors, and mmengine's ``HistoryBuffer`` name bound to a class that
  only records the state (mmengine's own ``__setstate__`` would copy
  whatever the file holds into its class-wide table of statistics
  functions); the state becomes a ``HistoryBuffer`` after the read.
  mmengine pickles those statistics functions as ``getattr(HistoryBuffer,
  'mean')``: ``getattr`` is bound to a function that answers that with a
  name and refuses anything else, so mmengine's own checkpoints load too.
  Nothing
  else is allowed unless a caller names it (the release converter:
  ``argparse.Namespace``), and torch's list of allowed types is as before
  after the read.

mmengine's own loader (``load_from``, ``init_cfg`` ``Pretrained``,
``--resume`` in any project's ``train.py``) reads through here once a config
imports :mod:`mmpixpro.engine.safe_checkpoint_loading`; mmpixpro's tools and
APIs call :func:`read_checkpoint` themselves.
"""

import logging
import os
import os.path as osp
import pickle
from contextlib import contextmanager
from typing import Any, Iterator, List, Sequence, Set, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

from mmpixpro.engine.checkpoint_checks import CheckpointError, load_error_reason
from mmpixpro.engine.checkpoint_digest import digest_problem, written_digest

from .checkpoint_download import fetch

# The prefixes mmengine 0.10's CheckpointLoader reads (``''``: local files).
MMENGINE_PREFIXES = (
    '',
    'http://',
    'https://',
    'torchvision://',
    'modelzoo://',
    'open-mmlab://',
    'openmmlab://',
    'mmcls://',
    'pavi://',
    r'(\S+\:)?s3://',
    r'(\S+\:)?petrel://',
)


# Identities (device, inode, size, mtime) of files whose digest matched.
_VERIFIED: Set[Tuple[int, int, int, int]] = set()


def _identity(path: str) -> Tuple[int, int, int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


class _HistoryBufferState:
    """Stands for mmengine's ``HistoryBuffer`` while a checkpoint is read:
    keeps the pickled state and calls nothing named in it."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


# The name under which a HistoryBuffer is pickled.
_HistoryBufferState.__module__ = HistoryBuffer.__module__
_HistoryBufferState.__name__ = _HistoryBufferState.__qualname__ = 'HistoryBuffer'


def _statistics_name(owner: Any, name: Any) -> str:
    """Stands for ``builtins.getattr`` while a checkpoint is read: mmengine
    pickles a HistoryBuffer's statistics functions as ``getattr(HistoryBuffer,
    'mean')``; those give their name only (the stand-in ignores them), any
    other use is refused."""
    if owner is _HistoryBufferState and isinstance(name, str):
        return f'HistoryBuffer.{name}'
    raise pickle.UnpicklingError(
        'Unsupported global: GLOBAL builtins.getattr (other than for '
        "mmengine's HistoryBuffer statistics)"
    )


_statistics_name.__module__ = 'builtins'
_statistics_name.__name__ = _statistics_name.__qualname__ = 'getattr'


def legacy_types() -> List[object]:
    """The non-tensor types of checkpoints that mmengine / mmpixpro wrote
    before mmpixpro wrote plain data (and that mmengine's Runner writes
    without ``PlainCheckpointHook``): the HistoryBuffer stand-in, ``getattr``
    for its statistics functions only, and numpy's arrays, scalars and
    dtypes."""
    types: List[object] = [_HistoryBufferState, _statistics_name]
    types += [np.ndarray, np.dtype]
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    types += [_reconstruct, scalar]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25: a class per dtype
    if dtypes is not None:
        types += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return types


def _global_name(obj: Any) -> str:
    """The name under which torch matches an allowed type."""
    if isinstance(obj, tuple):
        return obj[1]
    name = getattr(obj, '__qualname__', getattr(obj, '__name__', ''))
    return f'{getattr(obj, "__module__", "")}.{name}'


@contextmanager
def allowed_types(types: Sequence[object]) -> Iterator[None]:
    """Allow ``types`` for ``weights_only`` loads inside the block only (they
    replace allowed types of the same name); torch's list is restored after
    it. (torch's ``safe_globals`` context manager is 2.5+ and removes, on
    leaving, types that were allowed before it.)"""
    serialization = torch.serialization
    before = serialization.get_safe_globals()
    names = {_global_name(t) for t in types}
    serialization.clear_safe_globals()
    serialization.add_safe_globals(
        [t for t in before if _global_name(t) not in names] + list(types)
    )
    try:
        yield
    finally:
        serialization.clear_safe_globals()
        serialization.add_safe_globals(before)


def _history_buffer(source: str, standin: _HistoryBufferState) -> HistoryBuffer:
    state = standin.state
    try:
        return HistoryBuffer(
            state['_log_history'], state['_count_history'], int(state['max_length'])
        )
    except Exception:  # noqa: BLE001 - any other state is not mmengine's
        raise CheckpointError(
            source, "it holds a HistoryBuffer whose state is not mmengine's"
        ) from None


def _replace_standins(source: str, node: Any) -> Any:
    if isinstance(node, _HistoryBufferState):
        return _history_buffer(source, node)
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _replace_standins(source, value)
    elif isinstance(node, list):
        node[:] = [_replace_standins(source, value) for value in node]
    elif type(node) is tuple:
        return tuple(_replace_standins(source, value) for value in node)
    return node


def read_checkpoint(
    source: str,
    map_location: Any = 'cpu',
    mmap: bool = False,
    allow: Sequence[object] = (),
) -> Any:
    """Read the checkpoint ``source`` as data.

    Args:
        source: A local path, an ``http(s)://`` URL or an mmengine scheme
            (``torchvision://``, ``open-mmlab://``, ``mmcls://``).
        map_location: As ``torch.load``'s.
        mmap: Memory-map the tensors of a file in torch's zip format instead
            of reading them (the names, shapes and ``meta`` cost little
            however large the file; checking the digest reads the tensors
            once, through the page cache).
        allow: Further types allowed for this read (e.g.
            ``argparse.Namespace`` of the PixPro release).

    Raises:
        FileNotFoundError: No such local file.
        CheckpointError: A download that fails, a file that does not load as
            data, a digest that does not match (one line naming ``source``).
    """
    source = str(source)
    path, backbone_only = fetch(source)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {source!r} not found')
    with open(path, 'rb') as f:
        zipped = f.read(4) == b'PK\x03\x04'
    identity = _identity(path)
    try:
        with allowed_types(legacy_types() + list(allow)):
            checkpoint = torch.load(
                path,
                map_location=map_location,
                weights_only=True,
                mmap=mmap and zipped,
            )
    except Exception as e:  # noqa: BLE001 - any failure is one line
        raise CheckpointError(source, load_error_reason(e), type(e).__name__) from None
    # A file this process checked before, unchanged since (same inode, size
    # and modification time), is not hashed again: choosing a resume
    # candidate and the Runner's read, or the transfer hook's several reads.
    if identity not in _VERIFIED:
        problem = digest_problem(checkpoint)
        if problem is not None:
            raise CheckpointError(source, problem, 'digest mismatch')
        if written_digest(checkpoint) is not None and _identity(path) == identity:
            _VERIFIED.add(identity)
    if written_digest(checkpoint) is None:
        print_log(
            f"{source}: no tensor digest (another tool's or an older "
            'checkpoint): read without that check',
            logger='current',
            level=logging.DEBUG,
        )
    checkpoint = _replace_standins(source, checkpoint)
    if backbone_only:  # mmcls://: the backbone, without its prefix
        state = checkpoint.get('state_dict', checkpoint)
        checkpoint = {
            'state_dict': {
                k[len('backbone.') :]: v
                for k, v in state.items()
                if k.startswith('backbone.')
            }
        }
    return checkpoint


def load_from_mmpixpro(filename: str, map_location: Any = None) -> Any:
    """mmengine ``CheckpointLoader``'s loader for every prefix it knows
    (mmengine logs it as "Loads checkpoint by mmpixpro backend")."""
    return read_checkpoint(filename, map_location=map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine's ``CheckpointLoader`` read every prefix it knows
    (:data:`MMENGINE_PREFIXES`) with :func:`read_checkpoint`, through its
    public ``register_scheme``. Idempotent."""
    from mmengine.runner import CheckpointLoader

    CheckpointLoader.register_scheme(
        list(MMENGINE_PREFIXES), load_from_mmpixpro, force=True
    )
