"""A PixPro backbone in torchvision's and detectron2's names.

Our ``backbone.*`` tensors (mmpretrain's ResNet) already carry torchvision's
ResNet names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``
...). detectron2's ResNet renames them (``stem.conv1``, ``res2``,
``convK.norm``, ``shortcut``: the table of :mod:`.layouts.detectron2`, which
reads such files back).

A detectron2 ``.pkl`` is a plain pickle ``{'model': {name: numpy array},
'__author__': ..., 'matching_heuristics': True}``; with the heuristics on,
detectron2 matches the names by suffix (``backbone.bottom_up.res2...`` in an
FPN model, ``roi_heads.res5...`` in a C4 one).

:func:`export_backbone` writes either file from one of our checkpoints;
the output is checked before the work (not the input, not an existing file
unless ``overwrite``) and written atomically (mmpixpro.utils.atomic_file).
"""

import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch

from mmpixpro.utils.atomic_file import atomic_open, check_output, output_folder

from .layouts import detectron2_name
from .transfer import load_state_dict_file

# torchvision constructor -> (blocks per stage, bottleneck?)
RESNETS = {
    'resnet18': ((2, 2, 2, 2), False),
    'resnet34': ((3, 4, 6, 3), False),
    'resnet50': ((3, 4, 6, 3), True),
    'resnet101': ((3, 4, 23, 3), True),
    'resnet152': ((3, 8, 36, 3), True),
}


def backbone_state_dict(
    state: Dict[str, torch.Tensor], prefix: str = 'backbone.'
) -> 'OrderedDict[str, torch.Tensor]':
    """The tensors under ``prefix`` (e.g. ``target_net.module.backbone.``
    for the momentum encoder), without it."""
    tensors = OrderedDict(
        (k[len(prefix) :], v) for k, v in state.items() if k.startswith(prefix)
    )
    if not tensors:
        raise KeyError(f'the checkpoint has no {prefix}* tensors')
    return tensors


def torchvision_arch(tensors: Dict[str, torch.Tensor]) -> str:
    """The torchvision ResNet (``resnet50`` ...) whose names and depth these
    tensors have; raises ``ValueError`` for anything else."""
    blocks = tuple(
        len({k.split('.')[1] for k in tensors if k.startswith(f'layer{i}.')})
        for i in range(1, 5)
    )
    bottleneck = any(re.match(r'layer\d\.\d+\.conv3\.', k) for k in tensors)
    for name, (depth, is_bottleneck) in RESNETS.items():
        if (blocks, bottleneck) == (depth, is_bottleneck) and 'conv1.weight' in tensors:
            return name
    raise ValueError(
        f'not a torchvision-layout ResNet (blocks per stage {blocks}, '
        f'bottleneck {bottleneck}, conv1.weight present: {"conv1.weight" in tensors})'
    )


def tracked(items: Dict[str, torch.Tensor], progress: bool) -> Iterable:
    """``items.items()``, with mmengine's progress bar on stderr if
    ``progress``."""
    if not progress:
        return items.items()
    from mmengine.utils import track_iter_progress

    return track_iter_progress(list(items.items()), file=sys.stderr)


def to_torchvision(
    tensors: Dict[str, torch.Tensor], progress: bool = False
) -> Tuple[str, 'OrderedDict']:
    """``(arch, state dict)``: the names are already torchvision's; the
    tensors are copied contiguous (a ``channels_last`` run's layout)."""
    arch = torchvision_arch(tensors)
    return arch, OrderedDict(
        (k, v.contiguous().clone()) for k, v in tracked(tensors, progress)
    )


def to_detectron2(
    tensors: Dict[str, torch.Tensor], author: str = 'mmpixpro', progress: bool = False
) -> dict:
    """The detectron2 ``.pkl`` content for these (torchvision-named) tensors."""
    torchvision_arch(tensors)  # refuse anything but a ResNet
    model = OrderedDict(
        (detectron2_name(k), v.detach().cpu().contiguous().numpy())
        for k, v in tracked(tensors, progress)
    )
    return {'model': model, '__author__': author, 'matching_heuristics': True}


def check_torchvision(arch: str, state: dict) -> None:
    """Load ``state`` strictly into torchvision's ``arch`` without ``fc``."""
    import torchvision

    model = getattr(torchvision.models, arch)(weights=None)
    model.fc = torch.nn.Identity()
    model.load_state_dict(state, strict=True)


def export_backbone(
    src: str,
    dst: str,
    to: str,
    target: bool = False,
    overwrite: bool = False,
    log: Optional[Callable[[str], None]] = None,
) -> Tuple[dict, str]:
    """Write the backbone of checkpoint ``src`` for another library.

    Args:
        src: One of our checkpoints.
        dst: Output file: never ``src``; an existing one only with
            ``overwrite``; its folder is created first; written atomically.
        to: ``'torchvision'``: a plain state dict (``torch.save``), checked
            by loading it strictly into torchvision's ResNet whose ``fc`` is
            ``nn.Identity()`` (the classifier is not pre-trained, not
            written); ``'detectron2'``: the pickle of :func:`to_detectron2`.
        target: Export the momentum backbone
            (``target_net.module.backbone``) instead.
        overwrite: Replace an existing ``dst``.
        log: Called with a line per stage, and a progress bar is drawn on
            stderr (a tool's output); None: silent.

    Returns:
        What was written, and a line that says so.

    Raises:
        FileExistsError: ``dst`` is ``src``, or exists without ``overwrite``.
        OSError: ``dst``'s folder cannot be created (before any work).
    """
    if to not in ('torchvision', 'detectron2'):
        raise ValueError(f"to is 'torchvision' or 'detectron2', got {to!r}")
    check_output(dst, [src], overwrite)
    say = log or (lambda line: None)
    prefix = 'target_net.module.backbone.' if target else 'backbone.'
    with output_folder(dst):
        if osp.isfile(src):
            say(f'reading {src} ({osp.getsize(src) / 2**20:.1f} MiB)')
        tensors = backbone_state_dict(load_state_dict_file(src), prefix)
        say(f'converting {len(tensors)} tensors of {prefix}*')
        if to == 'torchvision':
            arch, out = to_torchvision(tensors, progress=log is not None)
            say(f'checking: a strict load into torchvision {arch}')
            check_torchvision(arch, out)
            done = f'{len(out)} tensors of {prefix}* -> {dst} (torchvision {arch})'
        else:
            out = to_detectron2(tensors, progress=log is not None)
            done = (
                f'{len(out["model"])} tensors of {prefix}* -> {dst} (detectron2 names)'
            )
        say(f'writing {dst}')
        with atomic_open(dst, 'wb', overwrite=overwrite) as f:
            if to == 'torchvision':
                torch.save(out, f)
            else:
                pickle.dump(out, f)
    return out, done
