"""Which checkpoint a run resumes from: the newest one that loads.

mmengine resumes from the file that ``last_checkpoint`` names and fails when
that file is damaged (truncated by a full shared file system, zero bytes, not
a checkpoint). Here every ``epoch_N.pth`` / ``iter_N.pth`` of the work dir is
a candidate, newest first; damaged ones are reported and skipped.
"""

import errno
import os
import os.path as osp
import re
import shutil
from typing import Callable, List, Optional, Tuple

import torch

from .atomic_backend import format_bytes, is_temp_file

CHECKPOINT_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


def last_checkpoint_target(work_dir: str) -> Optional[str]:
    """The path written in ``work_dir/last_checkpoint``, if any."""
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip() or None
    except OSError:
        return None


def checkpoint_candidates(work_dir: str) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` files of ``work_dir`` (and of the
    folder ``last_checkpoint`` points to), newest first.

    Newest is the latest modification time (a work dir reused by an earlier,
    longer run keeps older files with higher numbers); ties go to the file
    that ``last_checkpoint`` names, then to the higher number.
    """
    last = last_checkpoint_target(work_dir)
    folders = {osp.abspath(work_dir)}
    if last is not None:
        folders.add(osp.dirname(osp.abspath(last)))
    paths = set()
    for folder in folders:
        if osp.isdir(folder):
            paths.update(
                osp.join(folder, name)
                for name in os.listdir(folder)
                if CHECKPOINT_NAME.match(name)
            )
    if last is not None and osp.exists(last):
        paths.add(osp.abspath(last))

    def newness(path: str) -> Tuple[int, bool, int]:
        match = CHECKPOINT_NAME.match(osp.basename(path))
        step = int(match.group(1)) if match else -1
        is_last = last is not None and osp.abspath(last) == path
        return os.stat(path).st_mtime_ns, is_last, step

    return sorted(paths, key=newness, reverse=True)


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or ``None`` if it loads.

    The file is loaded the way the Runner loads it (``weights_only=True``,
    on the CPU) and must hold ``meta`` and ``state_dict``.
    """
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'empty (0 bytes)'
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 - any load failure disqualifies it
        first_line = (str(e).strip().splitlines() or [''])[0][:300]
        return f'does not load ({type(e).__name__}: {first_line})'
    if not isinstance(ckpt, dict) or not {'meta', 'state_dict'} <= set(ckpt):
        return 'not a training checkpoint (no meta / state_dict)'
    return None


def newest_loadable_checkpoint(
    work_dir: str, warn: Callable[[str], None] = print
) -> Optional[str]:
    """The newest checkpoint of ``work_dir`` that loads.

    Each damaged newer one is reported through ``warn`` with its path and
    why. ``None`` when the work dir holds no checkpoint at all; a
    ``RuntimeError`` listing every file tried when none of them loads.
    """
    tried = []
    for path in checkpoint_candidates(work_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        warn(f'damaged checkpoint skipped: {path}: {problem}')
        tried.append(f'  {path}: {problem}')
    if tried:
        raise RuntimeError(
            f'no checkpoint in {work_dir} can be resumed from; tried, newest '
            'first:\n' + '\n'.join(tried)
        )
    return None


def remove_stale_temp_files(folder: str) -> List[str]:
    """Remove what interrupted atomic writes left in ``folder``
    (``.NAME.*.tmp``); returns the removed paths. Call only while no process
    writes there (before training starts)."""
    if not osp.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if is_temp_file(name) and osp.isfile(path):
            os.unlink(path)
            removed.append(path)
    return removed


def ensure_room_for(checkpoint: str, folder: str) -> None:
    """Raise ``OSError(ENOSPC)`` before training when ``folder`` has less free
    space than ``checkpoint`` takes: the next checkpoint (as large) would not
    fit, and the run would lose the work done until then."""
    needed = osp.getsize(checkpoint)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f'{folder} has {format_bytes(free)} free, less than the '
            f'{format_bytes(needed)} of {checkpoint}: the next checkpoint would '
            'not fit. Free some space, then resume',
        )
