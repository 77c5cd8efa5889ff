"""Checkpoints named by a URL or an OpenMMLab scheme: fetched into a local
cache first, then read as a local file is.

``http(s)://`` URLs are downloaded into torch's hub cache
(``$TORCH_HOME/hub/checkpoints/<file name of the URL>``, where mmengine and
torch put them too, so a file downloaded before is not fetched again), to a
temporary name there and renamed when complete: an interrupted download
leaves no file that a later run would take for the checkpoint. A file name
with a hash part (``resnet50-0676ba61.pth``, ``..._20210831-ea4938fc.pth``)
must match the SHA-256 of the download. Under torchrun, rank 0 downloads
while the others wait.

The schemes that mmengine resolves name such a URL: ``torchvision://NAME``
(``modelzoo://NAME``), ``open-mmlab://NAME`` (``openmmlab://NAME``; a name
may also stand for a file under mmengine's home) and ``mmcls://NAME`` (whose
checkpoint keeps only its ``backbone.*`` tensors, renamed without the
prefix, as mmengine does). mmengine's own tables are read for the names.
``pavi://``, ``s3://`` and ``petrel://`` are refused: download the file and
give its path.
"""

import os
import os.path as osp
import re
from typing import Tuple
from urllib.error import URLError
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

from mmpixpro.engine.checkpoint_checks import CheckpointError

# What mmengine's CheckpointLoader treats as other than a local path.
REMOTE = re.compile(r'^(\S+:)?[A-Za-z][\w+.-]*://')
UNSUPPORTED = ('pavi://', 's3://', 'petrel://')


def is_remote(source: str) -> bool:
    """Whether ``source`` is a URL or ``scheme://`` name, not a local path."""
    return bool(REMOTE.match(str(source)))


def mmengine_home() -> str:
    """mmengine's folder for checkpoints named by ``open-mmlab://`` that are
    files, not URLs (``$MMENGINE_HOME``, else ``$XDG_CACHE_HOME/mmengine``,
    else ``~/.cache/mmengine``)."""
    cache = os.getenv('XDG_CACHE_HOME', '~/.cache')
    return osp.expanduser(os.getenv('MMENGINE_HOME', osp.join(cache, 'mmengine')))


def _named(source: str, prefix: str, table: dict) -> str:
    name = source[len(prefix) :]
    if name not in table:
        raise CheckpointError(
            source, f'mmengine knows no checkpoint named {name!r} after {prefix}'
        )
    return table[name]


def resolve(source: str) -> str:
    """The URL (or, for some ``open-mmlab://`` names, the local file) that
    ``source`` names."""
    from mmengine.runner import checkpoint as mm

    if source.startswith(('http://', 'https://')):
        return source
    for prefix in ('torchvision://', 'modelzoo://'):
        if source.startswith(prefix):
            return _named(source, prefix, mm.get_torchvision_models())
    for prefix in ('open-mmlab://', 'openmmlab://'):
        if source.startswith(prefix):
            name = source[len(prefix) :]
            name = mm.get_deprecated_model_names().get(name, name)
            target = _named(prefix + name, prefix, mm.get_external_models())
            return target if is_remote(target) else osp.join(mmengine_home(), target)
    if source.startswith('mmcls://'):
        return _named(source, 'mmcls://', mm.get_mmcls_models())
    scheme = source.split('://')[0] + '://'
    why = (
        'is not read by mmpixpro'
        if scheme.endswith(UNSUPPORTED)
        else 'is a scheme mmpixpro does not know'
    )
    raise CheckpointError(
        source, f'{scheme} {why}: download the file and give its path'
    )


def download(url: str) -> str:
    """The cached file of ``url``, downloaded first if not cached yet."""
    name = osp.basename(urlparse(url).path)
    if not name:
        raise CheckpointError(url, 'the URL names no file')
    path = osp.join(torch.hub.get_dir(), 'checkpoints', name)
    rank, world_size = get_dist_info()
    if rank == 0:
        _download(url, path)
    if world_size > 1:
        barrier()
        if rank > 0:
            _download(url, path)  # another node without a shared cache
    return path


def _download(url: str, path: str) -> None:
    if osp.isfile(path):
        return
    os.makedirs(osp.dirname(path), exist_ok=True)
    found = torch.hub.HASH_REGEX.search(osp.basename(path))
    print_log(f'downloading {url} to {path}', logger='current')
    try:
        torch.hub.download_url_to_file(
            url, path, found.group(1) if found else None, progress=False
        )
    except (URLError, OSError, RuntimeError, ValueError) as e:
        reason = getattr(e, 'reason', None) or e
        raise CheckpointError(url, f'cannot download it ({reason})') from None


def fetch(source: str) -> Tuple[str, bool]:
    """``(local file to read for source, whether only its backbone is
    kept)``; a local path is returned as it is (``~`` expanded)."""
    if not is_remote(source):
        return osp.expanduser(source), False
    target = resolve(source)
    path = download(target) if is_remote(target) else target
    return path, source.startswith('mmcls://')
