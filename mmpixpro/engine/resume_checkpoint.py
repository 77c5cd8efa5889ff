"""Which checkpoint a run resumes from: the newest one that loads.

mmengine resumes from the file that ``last_checkpoint`` names and fails when
that file is damaged (truncated by a full shared file system, zero bytes, not
a checkpoint). Here every ``epoch_N.pth`` / ``iter_N.pth`` of the work dir is
a candidate; damaged ones are reported and skipped.

Newest means the latest step of training, not the latest modification time
(``cp -r``, ``rsync`` without times or a ``touch`` change those): the file
that ``last_checkpoint`` names first (the run saved it last), then the others
by their epoch / iteration, highest first. ``last_checkpoint`` is read
without following a link at its name, and a file it names outside the work
dir (``../other_run/epoch_9.pth``, also through a link) is ignored with a
warning: only this work dir's checkpoints are candidates. A candidate is
read as the Runner reads it (mmpixpro's reader, ``weights_only=True``), its
tensors memory-mapped, not copied, and checked against the SHA-256 digest it
was written with (``meta['tensor_sha256']``): a file with bytes changed
inside its tensor data is damaged too. Candidates are tried newest first
until one passes, so choosing reads about one checkpoint, whatever the
number of files; the chosen file is then read by the Runner.
"""

import errno
import os
import os.path as osp
import re
import shutil
from typing import Callable, List, Optional

from mmpixpro.engine.checkpoint_checks import CheckpointError
from mmpixpro.utils.atomic_file import format_bytes, is_temp_file
from mmpixpro.utils.no_follow import LinkRefusedError, read_no_follow

from .checkpoint_reader import read_checkpoint

CHECKPOINT_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')
LAST_CHECKPOINT = 'last_checkpoint'


def inside(path: str, folder: str) -> bool:
    """Whether ``path``, its links resolved, lies in ``folder`` or below."""
    folder = osp.realpath(folder)
    return osp.commonpath([osp.realpath(path), folder]) == folder


def last_checkpoint_target(
    work_dir: str, warn: Callable[[str], None] = print
) -> Optional[str]:
    """The absolute path written in ``work_dir/last_checkpoint``, if any (a
    relative one is taken from the work dir; a damaged one names no existing
    file and is then only ignored).

    A ``last_checkpoint`` that is a symbolic link, or that names a file
    outside the work dir, is ignored; ``warn`` says so.
    """
    path = osp.join(work_dir, LAST_CHECKPOINT)
    try:
        text = read_no_follow(path, limit=1 << 12).strip()
    except LinkRefusedError as e:
        warn(f'{LAST_CHECKPOINT} ignored: {e}')
        return None
    except OSError:
        return None
    if not text or '\0' in text:
        return None
    target = osp.join(osp.abspath(work_dir), text)  # an absolute text stays
    if not inside(target, work_dir):
        warn(
            f'{path} ignored: it names {text}, outside the work dir {work_dir}; '
            'only checkpoints of this work dir are resumed from'
        )
        return None
    return osp.normpath(target)


def checkpoint_step(path: str) -> int:
    """N of ``epoch_N.pth`` / ``iter_N.pth``; -1 for other names."""
    match = CHECKPOINT_NAME.match(osp.basename(path))
    return int(match.group(1)) if match else -1


def checkpoint_candidates(
    work_dir: str, warn: Callable[[str], None] = print
) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` files of ``work_dir`` (and of the
    folder inside it that ``last_checkpoint`` points to), newest first: the
    file named by ``last_checkpoint``, then by N, highest first."""
    last = last_checkpoint_target(work_dir, warn)
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
    last = osp.abspath(last) if last is not None and osp.isfile(last) else None
    if last is not None:
        paths.add(last)
    return sorted(paths, key=lambda p: (p == last, checkpoint_step(p)), reverse=True)


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or ``None`` if it can.

    The file must load the way the Runner loads it (``weights_only=True``,
    its tensors matching their digest when it has one) and be a Runner's
    training checkpoint: ``state_dict`` and a ``meta`` with the ``epoch``
    and ``iter`` to continue from.
    """
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'empty (0 bytes)'
    try:
        ckpt = read_checkpoint(path, mmap=True)
    except CheckpointError as e:
        return f'does not load ({e.kind}: {e.reason})'
    if not isinstance(ckpt, dict) or not {'meta', 'state_dict'} <= set(ckpt):
        return 'not a training checkpoint (no meta / state_dict)'
    meta = ckpt['meta']
    if not isinstance(meta, dict) or not {'epoch', 'iter'} <= set(meta):
        return (
            'not a training checkpoint of a Runner (its meta has no epoch / '
            'iter: a converted or published model?); to start from its '
            'weights use load_from (--cfg-options load_from=FILE), not --resume'
        )
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
    for path in checkpoint_candidates(work_dir, warn):
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
    """Remove what our interrupted atomic writes left in ``folder``
    (``.NAME.mmpixpro-<12 hex digits>.tmp``; other tools' temporary files
    stay); returns the removed paths. Call only while no other run can write
    there: with the work dir's lock held (its writer is gone), before
    training starts."""
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
