"""A start refused on a busy work dir, remembered for torchrun's restarts.

torchrun (``--max-restarts``) restarts every worker after a failure. A run
refused because another run holds its work dir would be retried by each
restart, and a restart after the other run ended would take that work dir
over and resume the other run's checkpoints. So each worker refused on a
busy work dir leaves a note for the torchrun agent that started it, and a
worker that agent restarts (``TORCHELASTIC_RESTART_COUNT`` > 0) finds it and
stops at once, without touching the lock.

The note is a file in this machine's temporary folder, named after the agent
(host, the agent's pid, which is the worker's parent, and
``TORCHELASTIC_RUN_ID``) and the work dir: nothing is written into the busy
work dir, so neither the run that holds it nor that run's own restarts ever
see it (a failure record in the work dir would stop them). A fresh start
(restart count 0: a new agent) removes a note of the same name, left by an
agent whose pid was reused. Notes are written atomically and read without
following links; a note that cannot be written is only a lost shortcut (the
restart then finds the work dir busy and stops the same way).
"""

import contextlib
import hashlib
import os
import os.path as osp
import socket
import tempfile
from typing import Optional

from mmpixpro.utils.atomic_file import atomic_open
from mmpixpro.utils.no_follow import read_no_follow


def note_path(work_dir: str) -> str:
    """This torchrun agent's note about ``work_dir``."""
    agent = [
        socket.gethostname(),
        str(os.getppid()),
        os.environ.get('TORCHELASTIC_RUN_ID', ''),
        osp.realpath(work_dir),
    ]
    key = hashlib.sha256('\0'.join(agent).encode()).hexdigest()[:20]
    return osp.join(tempfile.gettempdir(), f'mmpixpro-refused-{key}.txt')


def remember_refusal(work_dir: str, message: str) -> None:
    """Leave ``message`` for the workers this agent restarts."""
    with contextlib.suppress(OSError):
        with atomic_open(note_path(work_dir), 'w', overwrite=True) as f:
            f.write(message)


def refusal_before(work_dir: str, restarts: int) -> Optional[str]:
    """The message of this agent's earlier refusal on ``work_dir`` when this
    worker is a restart (``restarts`` > 0); on a fresh start, remove a stale
    note and return ``None``."""
    path = note_path(work_dir)
    if restarts == 0:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
    try:
        return read_no_follow(path).strip() or None
    except OSError:
        return None
