"""One run per work dir: a lock file held while the run lives.

Two runs writing into one work dir clobber each other: the second one's
resume removes the first one's temporary checkpoint files, ``max_keep_ckpts``
deletes the other run's checkpoints, both write ``last_checkpoint`` and the
config dump. The run's rank 0 therefore holds a POSIX record lock
(``fcntl.lockf``) on ``WORK_DIR/.mmpixpro-run.lock`` from before the Runner
writes anything until the run ends. The kernel (or the NFS lock manager)
drops the lock when the holder dies, however it dies, so a worker that
torchrun restarts takes it again. Record locks belong to the process, not to
the dataloader workers it forks, which therefore never keep a dead run's lock.

What it guarantees:

- The lock file is opened with ``O_NOFOLLOW``: a link planted at its name
  (to a file, or dangling) stops the run with one line, and its target is
  neither created nor truncated.
- One lock per work dir and process: a second :meth:`WorkDirLock.acquire`
  in the process that holds it raises :class:`WorkDirBusyError` (the work
  dir is known by its device and inode, so also through another path).
  Record locks belong to the process: the kernel would grant the second
  lock, and closing its file would silently drop the first. In this process
  the lock file is opened by the lock that holds it only.
- Held by inode: :meth:`WorkDirLock.check` raises :class:`WorkDirLockLostError`
  when the file at the lock's name is no longer the one locked (deleted, or
  replaced: then another run can lock the new file while this one goes on).
- The lock file says who holds it (host, pid, user, start time, command), so
  that the refused run names the holder.
"""

import errno
import getpass
import json
import os
import os.path as osp
import socket
import stat
import sys
import time
import weakref
from typing import Dict, Optional, Tuple

from mmpixpro.utils.no_follow import open_no_follow

try:
    import fcntl
except ImportError:  # not on POSIX: runs are not guarded
    fcntl = None

LOCK_NAME = '.mmpixpro-run.lock'

# errnos of file systems that offer no record locks (some NFS / FUSE mounts)
NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}

# The work dirs (device, inode) whose lock this process holds: their paths.
_HELD: Dict[Tuple[int, int], str] = {}


class WorkDirBusyError(RuntimeError):
    """Another live run (or this process already) holds the work dir;
    ``holder`` is the lock file's record (a dict, empty when unreadable)."""

    def __init__(self, message: str, holder: Optional[dict] = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


class HeldByThisProcessError(WorkDirBusyError):
    """This process holds the work dir's lock already."""


class WorkDirLockLostError(RuntimeError):
    """The lock file this run holds was deleted or replaced."""


def parse_holder(text: str) -> dict:
    """The lock file's record as a dict (empty when it names no holder)."""
    try:
        holder = json.loads(text)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict) -> str:
    """``pid 123 on host node1 (user ann), started 2026-12-07 01:02:03:
    python tools/train.py ...`` from the lock file's record."""
    if not holder:
        return 'another run (its lock file names no holder)'
    return (
        f'pid {holder.get("pid")} on host {holder.get("host")} '
        f'(user {holder.get("user")}), started {holder.get("started")}: '
        f'{holder.get("command")}'
    )


def holder_record() -> str:
    """What this process writes into the lock file it holds."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a container is fine
        user = str(os.getuid())
    return json.dumps(
        dict(
            host=socket.gethostname(),
            pid=os.getpid(),
            user=user,
            started=time.strftime('%Y-%m-%d %H:%M:%S'),
            command=' '.join([osp.basename(sys.executable)] + sys.argv),
        )
    )


def file_id(st: os.stat_result) -> Tuple[int, int]:
    return st.st_dev, st.st_ino


def _close(fd: int, key: Tuple[int, int]) -> None:
    _HELD.pop(key, None)
    os.close(fd)


class WorkDirLock:
    """The lock of one work dir, held by this process once acquired.

    Args:
        work_dir (str): The run's work dir (created when missing).
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd: Optional[int] = None
        self._file: Optional[Tuple[int, int]] = None
        self.supported = fcntl is not None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock or raise :class:`WorkDirBusyError` naming the holder.

        On a file system without record locks the run goes on unguarded
        (``supported`` is then False; the caller says so in its log).

        Raises:
            WorkDirBusyError: Another run, or this process, holds it.
            LinkRefusedError: The lock file's name is a symbolic link.
        """
        if fcntl is None:
            return self
        os.makedirs(self.work_dir, exist_ok=True)
        key = file_id(os.stat(self.work_dir))
        if self.held or key in _HELD:
            raise HeldByThisProcessError(
                f'work dir {self.work_dir} is already held by this process '
                f'(pid {os.getpid()}, lock {_HELD.get(key, self.path)}): one '
                'lock per work dir and process (a second one would succeed, '
                'and giving it up would drop the first); release that one first'
            )
        while True:  # until the file locked is the one at the lock's name
            fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT)
            try:
                locked = self._lock(fd)
                if locked and self._is_at_name(fd):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if not locked:  # no locks on this file system
                return self
            # deleted or replaced meanwhile: lock the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_record().encode(), 0)
        self._fd, self._file = fd, file_id(os.fstat(fd))
        _HELD[key] = self.path
        # Closed with the object or at exit; the kernel releases it on death.
        self._finalizer = weakref.finalize(self, _close, fd, key)
        return self

    def _lock(self, fd: int) -> bool:
        """Lock ``fd``: True when locked, False on a file system without
        locks; raise :class:`WorkDirBusyError` when another run holds it."""
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(
                errno.EINVAL,
                f'{self.path} is not a regular file (a FIFO, device ...): remove it',
            )
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                holder = parse_holder(os.pread(fd, 1 << 16, 0).decode(errors='replace'))
                raise WorkDirBusyError(
                    f'work dir {self.work_dir} is in use by another run, '
                    f'{describe_holder(holder)}. One run per work dir: '
                    'give this run another --work-dir, or wait until that one '
                    'ends (a run that died releases it at once; after a crashed '
                    'node on NFS see --force-unlock)',
                    holder,
                ) from None
            if e.errno in NO_LOCKS:
                self.supported = False
                return False
            raise
        return True

    def _is_at_name(self, fd: int) -> bool:
        try:
            return file_id(os.lstat(self.path)) == file_id(os.fstat(fd))
        except FileNotFoundError:
            return False

    def check(self) -> None:
        """Raise :class:`WorkDirLockLostError` (one line) when the lock file
        held was deleted or replaced; nothing when it is not held."""
        if not self.held:
            return
        try:
            now = file_id(os.lstat(self.path))
        except FileNotFoundError:
            now, how = None, 'deleted'
        else:
            how = 'replaced by another file'
        if now != self._file:
            raise WorkDirLockLostError(
                f'the lock file {self.path} of this run was {how}: another run '
                f'may now hold {self.work_dir}, so this run stops before writing '
                'there again; make sure no other run uses it, then resume '
                '(--resume)'
            )

    def release(self) -> None:
        """Give the lock up (closing the file releases the record lock)."""
        if self._fd is not None:
            self._finalizer()
            self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
