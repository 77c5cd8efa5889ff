"""Which file each dataloader worker is decoding, readable after it died.

A decoder that crashes (a segfault in a C library) kills its worker without
a Python traceback: PyTorch reports "DataLoader worker (pid N) is killed by
signal: Segmentation fault", naming no file. So while a folder is set up
(:func:`breadcrumbs`, by the runner in the main process, named by the
environment variable :data:`ENV` that the workers inherit), the image
loader writes the path it is about to decode into ``{folder}/{pid}``
before decoding and empties it after (:func:`decoding`): once worker N
died, ``{folder}/N`` names the file it died on (:func:`read_breadcrumb`).

The folder is a private temporary folder (``0o700``) on the local disk,
removed when the run ends; each worker keeps its file open, so a decode
costs two system calls more (a write and a truncate, microseconds).
Without the folder (the variable unset) nothing is written.
"""

import contextlib
import os
import shutil
import tempfile
from typing import Iterator, Optional

#: The environment variable naming the folder.
ENV = 'MMPIXPRO_DECODING_DIR'
# Longest path read back (a path longer than this is cut).
_MAX_READ = 1 << 16

# This process's open breadcrumb: (pid, folder, fd). A forked worker finds
# its parent's and opens its own.
_open_crumb = None


def _crumb_fd(folder: str) -> int:
    global _open_crumb
    pid = os.getpid()
    if _open_crumb is None or _open_crumb[:2] != (pid, folder):
        if _open_crumb is not None and _open_crumb[0] == pid:  # an earlier run's
            with contextlib.suppress(OSError):
                os.close(_open_crumb[2])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(os.path.join(folder, str(pid)), flags | os.O_CLOEXEC, 0o600)
        _open_crumb = (pid, folder, fd)
    return _open_crumb[2]


@contextlib.contextmanager
def decoding(path: str) -> Iterator[None]:
    """Leave ``path`` in this process's breadcrumb while the block runs
    (nothing without a folder; a breadcrumb that cannot be written is
    skipped: it never stops the decoding)."""
    folder = os.environ.get(ENV)
    fd = None
    if folder:
        try:
            fd = _crumb_fd(folder)
            os.pwrite(fd, os.fsencode(path), 0)
        except OSError:
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)


def read_breadcrumb(folder: str, pid: int) -> Optional[str]:
    """The path worker ``pid`` was decoding when it stopped, or None (none
    being decoded, or no breadcrumb)."""
    path = os.path.join(folder, str(int(pid)))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, 'rb') as f:
        data = f.read(_MAX_READ)
    return os.fsdecode(data) if data else None


@contextlib.contextmanager
def breadcrumbs() -> Iterator[str]:
    """Set up a breadcrumb folder for the workers started inside the block
    (:data:`ENV`); yields it, and removes it (and restores the variable)
    after."""
    folder = tempfile.mkdtemp(prefix='mmpixpro-decoding-')
    before = os.environ.get(ENV)
    os.environ[ENV] = folder
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
        shutil.rmtree(folder, ignore_errors=True)
