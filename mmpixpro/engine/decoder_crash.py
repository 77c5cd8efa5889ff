"""A dataloader worker killed by an image decoder: the file named, counted
as unreadable, and not retried by restarts.

PyTorch reports a dead worker as ``DataLoader worker (pid 1234) is killed
by signal: Segmentation fault.`` (its SIGCHLD handler) and ``DataLoader
worker (pid(s) 1234) exited unexpectedly`` (the error the runner gets, the
first as its cause), naming no file. The pid leads to that worker's
breadcrumb (:mod:`mmpixpro.utils.decoding_breadcrumb`): a worker that died
while decoding names the file. The same data order meets the same file
after a restart, so the error is a
:class:`~.run_failure.RepeatingFailure`: recorded in ``run_failure.json``,
and workers that torchrun restarts stop at once.

Only deaths by a crash of the process itself count (segmentation fault,
bus error, illegal instruction, floating-point exception, abort) or a
death without a signal: a worker killed from outside (SIGKILL by the
out-of-memory killer, SIGTERM) while decoding need not be the file's
fault, and a restart may go through.
"""

import re
from typing import Dict, NamedTuple, Optional

from mmpixpro.utils.decoding_breadcrumb import read_breadcrumb

from .run_failure import RepeatingFailure

_KILLED = re.compile(r'DataLoader worker \(pid (\d+)\) is killed by signal: ([^.]+)')
_EXITED = re.compile(r'DataLoader worker \(pid\(s\) ([\d, ]+)\) exited unexpectedly')
# strsignal()'s words for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT
CRASH_SIGNALS = (
    'Segmentation fault',
    'Bus error',
    'Illegal instruction',
    'Floating point exception',
    'Aborted',
)


class DecoderCrashError(RepeatingFailure, RuntimeError):
    """A dataloader worker died while decoding an image (``path``)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class WorkerCrash(NamedTuple):
    """A worker that died while decoding ``path``."""

    pid: int
    signal: Optional[str]  # strsignal()'s words; None: not known
    path: str


def dead_workers(error: BaseException) -> Dict[int, Optional[str]]:
    """The dataloader workers that ``error``'s chain (causes and contexts)
    reports dead: pid -> the signal that killed it (None: not said)."""
    dead: Dict[int, Optional[str]] = {}
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error)
        for pid, signal in _KILLED.findall(text):
            dead[int(pid)] = signal.strip()
        for pids in _EXITED.findall(text):
            for pid in pids.split(','):
                dead.setdefault(int(pid), None)
        error = error.__cause__ or error.__context__
    return dead


def worker_crash(error: BaseException, folder: str) -> Optional[WorkerCrash]:
    """The worker of ``error`` that a crash killed while decoding a file,
    from the breadcrumbs in ``folder``; None if there is none."""
    for pid, signal in sorted(dead_workers(error).items()):
        if signal is not None and not signal.startswith(CRASH_SIGNALS):
            continue
        path = read_breadcrumb(folder, pid)
        if path:
            return WorkerCrash(pid, signal, path)
    return None


def decoder_crash_error(crash: WorkerCrash, counted: str) -> DecoderCrashError:
    """The one-line error for ``crash``; ``counted`` says how it was counted
    (e.g. ``3 of 1000 images unreadable so far``)."""
    how = f'killed by signal: {crash.signal}' if crash.signal else 'died'
    return DecoderCrashError(
        f'a dataloader worker (pid {crash.pid}) {how} while decoding '
        f'{crash.path}: its decoder crashes on this file, and would on every '
        f'restart; counted as unreadable ({counted}): remove or convert the '
        'file, then start again (e.g. with --resume)',
        crash.path,
    )
