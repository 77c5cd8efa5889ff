"""A local file backend whose writes are atomic, with a clear error when a
write fails (disk full, no permission)."""

import logging
import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

from mmpixpro.utils.atomic_file import format_bytes, free_space, temp_path


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (it may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` that writes to a temporary file in the same
    folder, syncs it, and renames it over the target.

    A process killed while saving leaves the previous file (e.g. the last
    checkpoint) untouched, never a truncated one; the temporary file it
    leaves (``.NAME.mmpixpro-*.tmp``) is removed when a run resumes in that
    folder holding its lock. (mmengine's checkpoint hook writes
    ``last_checkpoint`` itself, with a plain ``open``: a resume takes that
    file as a hint only, so a damaged one changes nothing.) A write that
    fails (no space left, no permission) removes the temporary file and
    raises an ``OSError`` of the same errno naming the target and the free
    space. Used by the checkpoint hook through
    ``backend_args=dict(backend='atomic_local')``.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        folder = osp.dirname(osp.abspath(filepath))
        tmp = None
        try:
            os.makedirs(folder, exist_ok=True)
            # 0o666 minus the umask, as a plain open() gives (mkstemp's 0o600
            # would hide checkpoints from the group on a shared file system).
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            name = temp_path(filepath)
            fd = os.open(name, flags, 0o666)
            tmp = name
            try:
                write_all(fd, obj)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, filepath)
        except OSError as e:
            if tmp is not None and osp.exists(tmp):
                os.unlink(tmp)
            message = (
                f'could not write {filepath} ({format_bytes(len(obj))}): '
                f'{e.strerror or e}; {free_space(folder)} there. Nothing was '
                'replaced and no partial file was left: the previous files '
                'are intact'
            )
            print_log(message, logger='current', level=logging.ERROR)  # run's log
            raise OSError(e.errno, message) from e
        except BaseException:  # killed or interrupted: no partial file left
            if tmp is not None and osp.exists(tmp):
                os.unlink(tmp)
            raise

    def put_text(
        self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8'
    ) -> None:
        self.put(obj.encode(encoding), filepath)
