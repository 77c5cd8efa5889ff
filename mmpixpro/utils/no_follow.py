"""Files of a work dir opened without following a link at their name.

Anyone who can write into a shared work dir can put a symbolic link where a
run will open a file (the lock file, ``last_checkpoint``, a report): a plain
``open`` would then write, create or truncate the link's target, outside the
work dir, with the rights of the run. Here:

- :func:`open_no_follow` opens with ``O_NOFOLLOW``: a link at the name (to
  an existing file or dangling) is refused with a one-line
  :class:`LinkRefusedError` (an ``OSError``, errno ``ELOOP``); nothing is
  followed, so the target is neither created nor truncated. Links in the
  folders above the name are the user's choice (a work dir on scratch space
  through a link) and are followed as usual.
- :func:`read_no_follow` reads at most ``limit`` bytes of such a file.
- :func:`refuse_link` raises the same error for a name that is a link,
  before any work (writers that rename over the name use it).
- :func:`remove_if_planted` removes a link, FIFO, socket or device at a name
  that someone else's code is about to ``open(name, 'w')`` (through a link
  that would write elsewhere; on a FIFO it would block).
"""

import errno
import os
import stat
from typing import Optional

NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)  # 0 where the OS has none (Windows)
CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


class LinkRefusedError(OSError):
    """The name is a symbolic link, which files of the work dir never follow
    (errno ``ELOOP``; its text is the message alone, one line)."""

    def __str__(self) -> str:
        return str(self.strerror)


def link_target(path: str) -> Optional[str]:
    """What the link at ``path`` points to, or ``None`` if it is no link."""
    try:
        return os.readlink(path)
    except OSError:  # not a link, or no such file
        return None


def _refused(path: str, target: str) -> LinkRefusedError:
    return LinkRefusedError(
        errno.ELOOP,
        f'{path} is a symbolic link (to {target}), which is never followed: '
        'nothing was read or written through it; remove the link',
    )


def refuse_link(path: str) -> None:
    """Raise :class:`LinkRefusedError` when ``path`` is a symbolic link."""
    target = link_target(path)
    if target is not None:
        raise _refused(path, target)


def open_no_follow(path: str, flags: int, mode: int = 0o666) -> int:
    """``os.open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)``.

    Raises:
        LinkRefusedError: ``path`` is a symbolic link.
    """
    try:
        return os.open(path, flags | NOFOLLOW | CLOEXEC, mode)
    except OSError as e:
        target = link_target(path)
        if e.errno == errno.ELOOP and target is not None:
            raise _refused(path, target) from None
        raise


def read_no_follow(path: str, limit: int = 1 << 16) -> str:
    """The text of ``path`` (its first ``limit`` bytes, undecodable bytes
    replaced), never read through a link.

    Raises:
        LinkRefusedError: ``path`` is a symbolic link.
        OSError: It cannot be read (missing, a folder ...).
    """
    fd = open_no_follow(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    try:
        return os.read(fd, limit).decode('utf-8', errors='replace')
    finally:
        os.close(fd)


def remove_if_planted(path: str) -> Optional[str]:
    """Remove ``path`` if it is a symbolic link or a FIFO, socket or device;
    what it was, or ``None`` when it is a regular file, a folder or missing."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        what = f'a symbolic link (to {link_target(path)})'
    else:
        what = 'not a regular file (a FIFO, socket or device)'
    os.unlink(path)
    return what
