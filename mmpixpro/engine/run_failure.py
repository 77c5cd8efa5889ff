"""Failures that a restart would only repeat, recorded in the work dir.

A non-finite loss, too many unreadable images or a full disk come back the
same way when torchrun (``--max-restarts``) restarts the workers: resume is
exact, so the same iterations meet the same data and the same weights, and
the disk is as full as before. Each restart would cost a start-up and end in
the same error. So the run that meets one writes ``run_failure.json`` into
its work dir (atomically), and a worker restarted by torchrun
(``TORCHELASTIC_RESTART_COUNT`` > 0) that finds it stops at once with the
original message. A fresh start (restart count 0: a person ran the command
again, e.g. with ``--resume`` after fixing the cause) removes the record and
trains.
"""

import errno
import json
import os
import os.path as osp
import time
from typing import Callable, Optional

from .atomic_backend import AtomicLocalBackend

#: The record's file name in the work dir.
RECORD = 'run_failure.json'


class RepeatingFailure(Exception):
    """Mixed into the errors that a restart would only repeat."""


class NonFiniteLossError(RepeatingFailure, FloatingPointError):
    """A loss term was not finite on some rank (the weights are not either)."""


class UnreadableImagesError(RepeatingFailure, RuntimeError):
    """More images could not be read than the configured fraction allows."""


class RecordedFailureError(RuntimeError):
    """A restarted worker found a failure recorded that it would repeat."""


def repeating_failure(error: BaseException) -> Optional[BaseException]:
    """The error in ``error``'s chain (its causes and contexts) that a
    restart would only repeat, or ``None``: a :class:`RepeatingFailure`, or
    an ``OSError`` with ``errno.ENOSPC`` (no space left on the device)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, RepeatingFailure):
            return error
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def record_path(work_dir: str) -> str:
    return osp.join(work_dir, RECORD)


def record_failure(work_dir: str, error: BaseException, iterations: int) -> str:
    """Write ``error`` and the number of ``iterations`` completed before it
    to the work dir's record (temporary file + rename); returns its path."""
    payload = dict(
        error=type(error).__name__,
        message=str(error),
        iterations=iterations,
        time=time.strftime('%Y-%m-%d %H:%M:%S'),
    )
    path = record_path(work_dir)
    text = json.dumps(payload, indent=2) + '\n'
    AtomicLocalBackend().put_text(text, path)
    return path


def read_failure(work_dir: str) -> Optional[dict]:
    """The record of the work dir, or ``None`` when there is none.

    A record that does not parse (written by hand, or by another tool) is
    returned as its raw text under ``message``.
    """
    path = record_path(work_dir)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        text = f.read()
    try:
        record = json.loads(text)
    except ValueError:
        return dict(error='unknown', message=text.strip())
    return record if isinstance(record, dict) else dict(message=str(record))


def stop_if_failed_before(
    work_dir: str, restarts: int, log: Callable[[str], None]
) -> None:
    """Start of a run (rank 0): stop a restarted worker that would repeat a
    recorded failure; on a fresh start, remove the record.

    Args:
        work_dir (str): The run's work dir.
        restarts (int): ``TORCHELASTIC_RESTART_COUNT`` (0: a fresh start).
        log (callable): Takes one line for the run's log.

    Raises:
        RecordedFailureError: ``restarts`` > 0 and a failure is recorded.
    """
    record = read_failure(work_dir)
    if record is None:
        return
    path = record_path(work_dir)
    done = record.get('iterations')
    where = f' after {done} iterations' if isinstance(done, int) else ''
    original = f'{record.get("error", "error")}: {record.get("message", "")}'
    if restarts > 0:
        raise RecordedFailureError(
            f'restart {restarts} by torchrun stops at once: the run failed{where} '
            f'in a way a restart only repeats ({path}): {original} -- fix the '
            'cause, then start the command again (e.g. with --resume); a fresh '
            'start removes the record'
        )
    os.remove(path)
    log(
        f'{path} removed: the previous run failed{where} ({original}); this '
        'fresh start takes it as fixed'
    )
