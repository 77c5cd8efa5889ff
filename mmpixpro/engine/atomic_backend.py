"""A local file backend whose writes are atomic."""

import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` that writes to a temporary file in the same
    folder, syncs it, and renames it over the target.

    A process killed while saving leaves the previous file (e.g. the last
    checkpoint, or ``last_checkpoint``) untouched, never a truncated one.
    Used by the checkpoint hook through ``backend_args=dict(backend=
    'atomic_local')``.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        folder = osp.dirname(osp.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp'
        )
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.unlink(tmp)
            raise

    def put_text(
        self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8'
    ) -> None:
        self.put(obj.encode(encoding), filepath)
