"""Output files of the tools: checked before the work, written atomically.

A tool that many people run on one shared file system must not clobber its
input, nor a file someone else wrote, nor leave a truncated file when it is
killed, nor hide its output from the group. So:

- :func:`check_output` refuses, before any work, an output that is one of the
  inputs (also through another name: a link, ``./x`` for ``x``), a folder,
  a symbolic link (never written through, nor replaced), or an existing file
  unless ``overwrite`` is given;
- :func:`output_folder` creates the missing folders of the output before the
  work (a folder that cannot be created stops the tool at once) and removes
  the ones it created if the work then fails;
- :class:`AtomicFile` writes to a temporary file
  ``.NAME.mmpixpro-<12 hex digits>.tmp`` next to the output (a name no other
  tool makes: :func:`is_temp_file` tells ours from theirs), created
  ``O_EXCL | O_NOFOLLOW``, ``0o666`` minus the umask (as a plain ``open()``
  does; ``tempfile.mkstemp`` would give ``0o600``), synced, then renamed into
  place. An output that is a symbolic link is refused before anything is
  written (``O_NOFOLLOW`` semantics: :class:`~.no_follow.LinkRefusedError`,
  one line); a link planted while the file is written is replaced by the
  rename, never followed. Without ``overwrite`` the rename cannot replace a
  file that appeared meanwhile (it is a hard link, which fails on an
  existing name). A failure removes the temporary file and leaves the
  previous output as it was; a failed write (disk full, quota) is raised as
  an ``OSError`` of one line naming the file, the reason and the free space.
"""

import contextlib
import io
import os
import os.path as osp
import re
import shutil
import uuid
from typing import IO, Iterator, List, Optional, Sequence

from .no_follow import CLOEXEC, NOFOLLOW, refuse_link

#: ``.NAME.mmpixpro-<12 hex digits>.tmp``: the temporary files of our writers.
TEMP_NAME = re.compile(r'^\..+\.mmpixpro-[0-9a-f]{12}\.tmp$', re.DOTALL)


def temp_path(path: str) -> str:
    """``FOLDER/.NAME.mmpixpro-<random>.tmp``: where ``path`` is written
    before it is renamed into place (the checkpoint backend and the tools
    alike)."""
    folder = osp.dirname(osp.abspath(path))
    name = f'.{osp.basename(path)}.mmpixpro-{uuid.uuid4().hex[:12]}.tmp'
    return osp.join(folder, name)


def is_temp_file(name: str) -> bool:
    """Whether ``name`` (a file name) is a temporary file of our writers
    (another tool's ``.x.tmp`` is not)."""
    return TEMP_NAME.match(name) is not None


def format_bytes(num: float) -> str:
    """``123 B``, ``4.5 MiB``, ``1.2 GiB`` ..."""
    if num < 1024:
        return f'{int(num)} B'
    for unit in ('KiB', 'MiB', 'GiB'):
        num /= 1024
        if num < 1024:
            return f'{num:.1f} {unit}'
    return f'{num / 1024:.1f} TiB'


def free_space(folder: str) -> str:
    """``'1.2 GiB free of 10.0 GiB'`` for the file system of ``folder``."""
    try:
        usage = shutil.disk_usage(folder)
    except OSError as e:
        return f'free space unknown ({e.strerror})'
    return f'{format_bytes(usage.free)} free of {format_bytes(usage.total)}'


class OutputExistsError(FileExistsError):
    """The output exists and overwriting it was not asked for, or it is an
    input of the tool."""


def _same_file(a: str, b: str) -> bool:
    try:
        return osp.samefile(a, b)
    except OSError:
        return osp.realpath(a) == osp.realpath(b)


def check_output(
    path: str,
    inputs: Sequence[str] = (),
    overwrite: bool = False,
    flag: str = '--overwrite',
) -> None:
    """Refuse ``path`` as an output before any work is done.

    Raises:
        OutputExistsError: ``path`` is one of ``inputs`` (never allowed), or
            exists and ``overwrite`` is false.
        LinkRefusedError: ``path`` is a symbolic link (never allowed).
        IsADirectoryError: ``path`` is a folder.
    """
    for source in inputs:
        if _same_file(path, source):
            raise OutputExistsError(
                f'output {path!r} is the input {source!r}: writing it would '
                'destroy the input; give another output file'
            )
    refuse_link(path)
    if osp.isdir(path):
        raise IsADirectoryError(
            f'output {path!r} is a folder; give a file name inside it'
        )
    if osp.lexists(path) and not overwrite:
        raise OutputExistsError(
            f'output {path!r} exists; give another name, or {flag} to replace it'
        )


@contextlib.contextmanager
def output_folder(path: str) -> Iterator[None]:
    """Create the missing folders of output file ``path`` now; if the body
    raises, remove those it created (when still empty).

    Raises:
        NotADirectoryError / PermissionError / OSError: a folder cannot be
            created (one line naming it).
    """
    folder = osp.dirname(osp.abspath(path))
    missing: List[str] = []
    probe = folder
    while not osp.isdir(probe):
        missing.append(probe)
        parent = osp.dirname(probe)
        if parent == probe:
            break
        probe = parent
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise type(e)(
            f'cannot create the output folder {folder!r}: {e.strerror or e}'
        ) from None
    try:
        yield
    except BaseException:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(created)
        raise


class _RawFile(io.FileIO):
    """``io.FileIO`` that remembers the ``OSError`` of a failed write (disk
    full, quota, file size limit): a writer like ``torch.save`` reports it
    as an unrelated-looking ``RuntimeError``."""

    error: Optional[OSError] = None

    def write(self, data) -> int:
        try:
            return super().write(data)
        except OSError as e:
            self.error = e
            raise


def _write_failed(path: str, error: OSError) -> OSError:
    """One line: what could not be written, why, and the free space."""
    free = free_space(osp.dirname(osp.abspath(path)))
    return type(error)(
        f'could not write {path!r}: {error.strerror or error} ({free} there); '
        'nothing was replaced and no partial file was left'
    )


class AtomicFile:
    """A temporary file next to ``path`` that becomes ``path`` on
    :meth:`commit` and disappears on :meth:`discard`.

    Args:
        path: The output file (refused if it is a symbolic link).
        mode: ``'wb'`` or ``'w'``.
        overwrite: Whether :meth:`commit` may replace an existing ``path``.
        encoding, errors: For text mode (default ``'utf-8'``, ``'strict'``).
    """

    def __init__(
        self,
        path: str,
        mode: str = 'wb',
        overwrite: bool = False,
        encoding: Optional[str] = None,
        errors: Optional[str] = None,
    ) -> None:
        if mode not in ('w', 'wb'):
            raise ValueError(f"mode is 'w' or 'wb', got {mode!r}")
        refuse_link(path)
        self.path = path
        self.overwrite = overwrite
        self.tmp = temp_path(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
        fd = os.open(self.tmp, flags, 0o666)  # the umask applies
        self.raw = _RawFile(fd, 'wb', closefd=True)
        buffered = io.BufferedWriter(self.raw)
        if mode == 'w':
            self.file: IO = io.TextIOWrapper(
                buffered, encoding=encoding or 'utf-8', errors=errors, newline=''
            )
        else:
            self.file = buffered

    @property
    def write_error(self) -> Optional[OSError]:
        """The error of a failed write to the temporary file, if any."""
        return self.raw.error

    def explain(self, error: BaseException) -> BaseException:
        """``error`` as one line naming this file, the reason and the free
        space where a write to it failed (``torch.save`` reports a full disk
        as a ``RuntimeError`` about positions); else ``error`` itself."""
        if self.write_error is None:
            return error
        failed = _write_failed(self.path, self.write_error)
        failed.__cause__ = error
        return failed

    def commit(self) -> None:
        """Sync and rename the temporary file to ``path``."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            if self.overwrite:
                os.replace(self.tmp, self.path)
            else:
                self._link_no_clobber()
        except BaseException as e:
            self.discard()
            explained = self.explain(e)
            if explained is not e:
                raise explained from e
            raise

    def _link_no_clobber(self) -> None:
        try:
            os.link(self.tmp, self.path)
        except FileExistsError:
            raise OutputExistsError(
                f'output {self.path!r} appeared while it was being written '
                '(another process?); it was left as it is'
            ) from None
        except OSError:  # no hard links on this file system
            if osp.lexists(self.path):
                raise OutputExistsError(
                    f'output {self.path!r} appeared while it was being written '
                    '(another process?); it was left as it is'
                ) from None
            os.replace(self.tmp, self.path)
            return
        os.unlink(self.tmp)

    def discard(self) -> None:
        """Close and remove the temporary file (nothing else is touched)."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb', overwrite: bool = False, **kwargs):
    """``with atomic_open(path) as f: ...``: ``path`` appears whole when the
    block ends without error, and is left as it was otherwise (see
    :class:`AtomicFile`)."""
    out = AtomicFile(path, mode, overwrite, **kwargs)
    try:
        yield out.file
    except BaseException as e:
        out.discard()
        explained = out.explain(e)  # disk full ...: say so in one line
        if explained is not e:
            raise explained from e
        raise
    out.commit()
