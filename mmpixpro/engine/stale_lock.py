"""``--force-unlock``: take over a work dir whose lock a crashed node left.

On NFS the server keeps a lock until the holder's client tells it the
holder died. A node that crashed tells nothing: the lock outlives the run
until the server's lease ends (NFSv4) or the node reboots (NFSv3's lock
manager), and every new run on that work dir is refused.

No one can take a lock from another NFS client, but the lock belongs to the
lock *file*: :func:`force_acquire` removes the file and locks a new one at
the same name. It refuses, with one line, while the holder is alive on this
host (its pid exists here). A holder on another host cannot be checked from
here: the person who asks for it says that node is gone. Should that run
still be alive after all, it notices at its next checkpoint that its lock
file was replaced and stops (:meth:`WorkDirLock.check`) before writing there
again.
"""

import os
import socket
from typing import Callable

from .work_dir_lock import (
    HeldByThisProcessError,
    WorkDirBusyError,
    WorkDirLock,
    describe_holder,
)


def alive_here(holder: dict) -> bool:
    """Whether the holder's pid is a live process on this host."""
    pid = holder.get('pid')
    if holder.get('host') != socket.gethostname() or not isinstance(pid, int):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # no signal sent: only whether it exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def force_acquire(lock: WorkDirLock, log: Callable[[str], None]) -> WorkDirLock:
    """Acquire ``lock``; if another run holds it, take it over unless that
    run is alive on this host (a lock file that names no holder is taken
    over too).

    Raises:
        WorkDirBusyError: The holder is alive on this host (one line).
    """
    try:
        return lock.acquire()
    except HeldByThisProcessError:
        raise
    except WorkDirBusyError as busy:
        holder = busy.holder
    if alive_here(holder):
        raise WorkDirBusyError(
            f'--force-unlock refused: work dir {lock.work_dir} is held by a live '
            f'process on this host, {describe_holder(holder)}; stop that run '
            f'first (if pid {holder.get("pid")} is not that run, remove '
            f'{lock.path} by hand)',
            holder,
        )
    os.unlink(lock.path)
    log(
        f'--force-unlock: removed {lock.path} of {describe_holder(holder)} '
        '(not alive on this host); should that run be alive elsewhere, it '
        'stops at its next checkpoint'
    )
    return lock.acquire()
