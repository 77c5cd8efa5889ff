"""One run per work dir: a lock file held while the run lives.

Two runs writing into one work dir clobber each other: the second one's
resume removes the first one's temporary checkpoint files, ``max_keep_ckpts``
deletes the other run's checkpoints, both write ``last_checkpoint`` and the
config dump. The run's rank 0 therefore holds a POSIX record lock
(``fcntl.lockf``) on ``WORK_DIR/.mmpixpro-run.lock`` from before the Runner
writes anything until the process ends. The kernel (or the NFS lock manager)
drops the lock when the holder dies, however it dies, so a worker that
torchrun restarts takes it again. Record locks belong to the process, not to
the dataloader workers it forks, which therefore never keep a dead run's lock.

The lock file also says who holds it (host, pid, user, start time, command),
so that the refused run can name the holder.
"""

import errno
import getpass
import json
import os
import os.path as osp
import socket
import sys
import time
import weakref
from typing import Optional

try:
    import fcntl
except ImportError:  # not on POSIX: runs are not guarded
    fcntl = None

LOCK_NAME = '.mmpixpro-run.lock'

# errnos of file systems that offer no record locks (some NFS / FUSE mounts)
NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class WorkDirBusyError(RuntimeError):
    """Another live run holds the work dir."""


def describe_holder(text: str) -> str:
    """``pid 123 on host node1 (user ann), started 2026-12-07 01:02:03:
    python tools/train.py ...`` from the lock file's contents."""
    try:
        holder = json.loads(text)
    except ValueError:
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


class WorkDirLock:
    """The lock of one work dir, held by this process once acquired.

    Args:
        work_dir (str): The run's work dir (created when missing).
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd: Optional[int] = None
        self.supported = fcntl is not None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock or raise :class:`WorkDirBusyError` naming the holder.

        On a file system without record locks the run goes on unguarded
        (``supported`` is then False; the caller says so in its log).
        """
        if self.held or fcntl is None:
            return self
        os.makedirs(self.work_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise WorkDirBusyError(
                    f'work dir {self.work_dir} is in use by another run, '
                    f'{describe_holder(self._read())}. One run per work dir: '
                    'give this run another --work-dir, or wait until that one '
                    'ends (a run that died releases it at once)'
                ) from None
            if e.errno in NO_LOCKS:
                self.supported = False
                return self
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_record().encode(), 0)
        self._fd = fd
        # Closed with the object or at exit; the kernel releases it on death.
        self._finalizer = weakref.finalize(self, os.close, fd)
        return self

    def release(self) -> None:
        """Give the lock up (closing the file releases the record lock)."""
        if self._fd is not None:
            self._finalizer()
            self._fd = None

    def _read(self) -> str:
        try:
            with open(self.path) as f:
                return f.read()
        except OSError:
            return ''

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
