"""Checkpoints of the authors' PixPro release, in this project's names.

The release saves ``{'model': state dict of the DDP-wrapped model, 'opt':
argparse.Namespace, 'optimizer', 'scheduler', 'epoch'[, 'amp']}``; its
published models keep only ``'model'``. Its modules and ours (keys after the
``module.`` of DDP):

- ``encoder.<torchvision ResNet names>`` -> ``backbone.<same names>``
- ``encoder_k.*`` -> ``target_net.module.backbone.*``
- ``projector.{linear1,bn1,linear2}.*`` -> ``projector.projector.{0.conv,0.bn,1}.*``
- ``projector_k.*`` -> ``target_net.module.projector.projector.*``
- ``value_transform.{weight,bias}`` (l = 1) -> ``head.ppm.transform.*``;
  ``value_transform.{linear1,bn1,linear2}.*`` (l = 2) ->
  ``head.ppm.transform.{0.conv,0.bn,1}.*``; l = 0 has no tensors
- ``projector_instance.*`` -> ``instance_head.projector.projector.*``
- ``predictor.*`` -> ``instance_head.predictor.projector.*``
- ``projector_instance_k.*`` ->
  ``target_net.module.instance_projector.projector.*``

The release's two-layer heads (``MLP2d``: 1x1 conv with bias, BN, ReLU, 1x1
conv with bias) are our ``DenseProjector`` layout. Nothing else is renamed,
and a key outside this table is an error, not dropped; so are two keys that
would become one (``module.encoder.x`` and ``encoder.x``: the last would
win) and an incomplete file (:func:`check_complete`: a copy cut short, or a
file with half its tensors, would otherwise convert into a model that is
partly random). :func:`import_official_checkpoint` writes the converted
file, atomically, never over its input nor, unless asked, an existing file.
"""

import argparse
import os.path as osp
import re
from collections import Counter, OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch

from mmpixpro.engine.checkpoint_checks import CheckpointError
from mmpixpro.engine.checkpoint_digest import add_digest
from mmpixpro.engine.checkpoint_reader import read_checkpoint
from mmpixpro.utils.atomic_file import atomic_open, check_output, output_folder

from .backbone_export import torchvision_arch, tracked


class OfficialCheckpointError(RuntimeError):
    """The file is not a checkpoint of the authors' release, or is unsafe."""


# release module -> ours; each is a two-layer head unless noted
_MODULES = OrderedDict(
    [
        ('encoder_k.', 'target_net.module.backbone.'),  # before 'encoder.'
        ('encoder.', 'backbone.'),
        ('projector_instance_k.', 'target_net.module.instance_projector.projector.'),
        ('projector_instance.', 'instance_head.projector.projector.'),
        ('projector_k.', 'target_net.module.projector.projector.'),
        ('projector.', 'projector.projector.'),
        ('predictor.', 'instance_head.predictor.projector.'),
        ('value_transform.', 'head.ppm.transform.'),
    ]
)
_BACKBONES = ('encoder.', 'encoder_k.')
# MLP2d's layers -> DenseProjector's
_MLP2D = {'linear1.': '0.conv.', 'bn1.': '0.bn.', 'linear2.': '1.'}
_LINEAR = re.compile(r'^(weight|bias)$')  # value_transform of l = 1
# every tensor of an MLP2d head
_MLP2D_KEYS = frozenset(
    [f'linear{i}.{p}' for i in (1, 2) for p in ('weight', 'bias')]
    + [f'bn1.{p}' for p in ('weight', 'bias', 'running_mean', 'running_var')]
    + ['bn1.num_batches_tracked']
)
_REQUIRED = ('encoder.', 'encoder_k.', 'projector.', 'projector_k.')
_INSTANCE = ('projector_instance.', 'projector_instance_k.', 'predictor.')
# online module -> its momentum copy (same tensors, same shapes)
_TWINS = (
    ('encoder.', 'encoder_k.'),
    ('projector.', 'projector_k.'),
    ('projector_instance.', 'projector_instance_k.'),
)


def _rename(key: str) -> str:
    for theirs, ours in _MODULES.items():
        if not key.startswith(theirs):
            continue
        rest = key[len(theirs) :]
        if theirs in _BACKBONES:
            return ours + rest
        if theirs == 'value_transform.' and _LINEAR.match(rest):
            return ours + rest
        for layer, ours_layer in _MLP2D.items():
            if rest.startswith(layer):
                return ours + ours_layer + rest[len(layer) :]
        break
    raise KeyError(key)


def _module_of(name: str) -> Optional[str]:
    """The release module (a key of ``_MODULES``) of a key without
    ``module.``."""
    for theirs in _MODULES:
        if name.startswith(theirs):
            return theirs
    return None


def _resnet_shapes(arch: str) -> Dict[str, Tuple[int, ...]]:
    """Name -> shape of every tensor of torchvision's ``arch`` but ``fc``
    (built on the meta device: no memory, no weights)."""
    import torchvision

    with torch.device('meta'):
        model = getattr(torchvision.models, arch)(weights=None)
    return {
        k: tuple(v.shape)
        for k, v in model.state_dict().items()
        if not k.startswith('fc.')
    }


def _compare(
    module: str, tensors: Dict[str, torch.Tensor], expected: Dict[str, tuple]
) -> List[str]:
    """What ``tensors`` lacks, has in excess or has in another shape than
    ``expected``, as short phrases."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    reshaped = sorted(
        k
        for k in set(expected) & set(tensors)
        if expected[k] is not None and tuple(tensors[k].shape) != expected[k]
    )
    problems = []
    if missing:
        problems.append(
            f'{len(missing)} of the {len(expected)} tensors of module.{module}* '
            f'are missing (e.g. {module}{missing[0]})'
        )
    if extra:
        problems.append(f'module.{module}* has unexpected {module}{extra[0]}')
    if reshaped:
        k = reshaped[0]
        problems.append(
            f'{module}{k} is {tuple(tensors[k].shape)}, expected {expected[k]}'
        )
    return problems


def check_complete(
    model: Dict[str, torch.Tensor], source: str = 'the checkpoint'
) -> None:
    """Refuse a release state dict that is not whole.

    Required: ``encoder`` with every tensor of the torchvision ResNet its
    blocks name (shapes included, ``fc`` excepted), ``projector``; each
    with its momentum twin (``encoder_k``, ``projector_k``: the same names
    and shapes). Each ``MLP2d`` head has its nine tensors; ``value_transform``
    is absent (l = 0), a 1x1 conv (``weight``, ``bias``) or an ``MLP2d``;
    the instance branch (``projector_instance{,_k}``, ``predictor``) is
    absent or whole.

    Raises:
        OfficialCheckpointError: naming ``source`` and the first problems.
    """
    groups: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, value in model.items():
        name = key[len('module.') :] if key.startswith('module.') else key
        module = _module_of(name)
        if module is not None:
            groups.setdefault(module, {})[name[len(module) :]] = value
    problems = [f'no module.{m}* tensors' for m in _REQUIRED if m not in groups]
    if 'encoder.' in groups:
        try:
            arch = torchvision_arch(groups['encoder.'])
        except ValueError as e:
            problems.append(f'module.encoder.* is not a whole ResNet: {e}')
        else:
            problems += _compare('encoder.', groups['encoder.'], _resnet_shapes(arch))
    for online, target in _TWINS:
        if online in groups and target in groups:
            shapes = {k: tuple(v.shape) for k, v in groups[online].items()}
            problems += _compare(target, groups[target], shapes)
    heads = ('projector.', 'projector_k.') + _INSTANCE
    for head in heads:
        if head in groups:
            problems += _compare(head, groups[head], dict.fromkeys(_MLP2D_KEYS))
    value = groups.get('value_transform.')
    if value is not None and set(value) != {'weight', 'bias'}:
        problems += _compare('value_transform.', value, dict.fromkeys(_MLP2D_KEYS))
    present = [m for m in _INSTANCE if m in groups]
    if present and len(present) < len(_INSTANCE):
        absent = [m for m in _INSTANCE if m not in groups]
        problems.append(
            f'the instance branch has module.{present[0]}* but no module.{absent[0]}*'
        )
    if problems:
        raise OfficialCheckpointError(
            f'{source} is not a whole checkpoint of the PixPro release '
            f'({"; ".join(problems[:3])}'
            f'{f"; {len(problems) - 3} more" if len(problems) > 3 else ""}): '
            'a copy cut short or an edited file? Convert the complete checkpoint'
        )


def convert_state_dict(
    model: Dict[str, torch.Tensor],
    source: str = 'the checkpoint',
    progress: bool = False,
) -> 'OrderedDict':
    """The release's model state dict (with or without DDP's ``module.``)
    in our names; raises :class:`OfficialCheckpointError` (naming
    ``source``) on a key outside the table of this module, on two keys that
    become one, and on an incomplete file (:func:`check_complete`).
    ``progress``: mmengine's progress bar on stderr."""
    if not any(k.startswith(('module.encoder.', 'encoder.')) for k in model):
        raise OfficialCheckpointError(
            f"{source} has no 'module.encoder.*' tensors: not a checkpoint of "
            'the PixPro release'
        )
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    origin: Dict[str, str] = {}
    unknown = []
    for key, value in tracked(model, progress):
        name = key[len('module.') :] if key.startswith('module.') else key
        try:
            ours = _rename(name)
        except KeyError:
            unknown.append(key)
            continue
        if ours in origin:
            raise OfficialCheckpointError(
                f'{source}: {origin[ours]!r} and {key!r} both become {ours!r} '
                '(one would silently replace the other); keep only one of them'
            )
        origin[ours] = key
        converted[ours] = value
    if unknown:
        raise OfficialCheckpointError(
            f'{source}: {len(unknown)} tensors have no counterpart here: {unknown[:10]}'
        )
    check_complete(model, source)
    return converted


def load_official_checkpoint(path: str) -> Tuple[dict, dict]:
    """``(model state dict, meta)`` of a release checkpoint.

    Read by mmpixpro's reader (``weights_only=True``) with one extra type
    allowed, ``argparse.Namespace`` (the saved options): tensors, numbers,
    strings, containers (and numpy arrays) load, anything else (pickled
    code) is refused. ``meta`` holds the epoch and the saved options (plain
    values only).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} not found')
    try:
        ckpt = read_checkpoint(path, allow=[argparse.Namespace])
    except CheckpointError as e:  # a pickled payload, or not a torch file
        raise OfficialCheckpointError(f'cannot load {path!r}: {e.reason}') from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('model'), dict):
        raise OfficialCheckpointError(
            f"{path!r} has no 'model' state dict: not a checkpoint of the PixPro "
            'release'
        )
    plain = (bool, int, float, str, type(None))
    opt = ckpt.get('opt')
    options = {
        k: v
        for k, v in (vars(opt) if isinstance(opt, argparse.Namespace) else {}).items()
        if isinstance(v, plain)
        or (isinstance(v, (list, tuple)) and all(isinstance(x, plain) for x in v))
    }
    meta = dict(source='PixPro release', source_file=osp.basename(path))
    if isinstance(ckpt.get('epoch'), int):
        meta['epoch'] = ckpt['epoch']
    if options:
        meta['release_options'] = options
    return ckpt['model'], meta


def import_official_checkpoint(
    src: str,
    dst: str,
    overwrite: bool = False,
    log: Optional[Callable[[str], None]] = None,
) -> Tuple['OrderedDict', List[str]]:
    """Convert the release checkpoint ``src`` and write ``{'meta',
    'state_dict'}`` in our names to ``dst``.

    ``meta`` carries the SHA-256 digest of the tensors
    (``meta['tensor_sha256']``), checked whenever mmpixpro reads it.
    ``dst`` is never ``src`` and replaces an existing file only with
    ``overwrite`` (both checked before the work); its folder is created
    first (and removed again if the conversion fails); it is written to a
    temporary file next to it and renamed, so it appears whole or not at all.
    ``log``: called with a line per stage, with a progress bar on stderr.

    Returns:
        The converted state dict, and lines that count its tensors per module.
    """
    check_output(dst, [src], overwrite)
    say = log or (lambda line: None)
    with output_folder(dst):
        if osp.isfile(src):
            say(f'reading {src} ({osp.getsize(src) / 2**20:.1f} MiB)')
        model, meta = load_official_checkpoint(src)
        say(f'converting {len(model)} tensors')
        state = convert_state_dict(model, repr(src), progress=log is not None)
        say(f'writing {dst}')
        checkpoint = {'meta': meta, 'state_dict': state}
        add_digest(checkpoint)
        with atomic_open(dst, 'wb', overwrite=overwrite) as f:
            torch.save(checkpoint, f)
    groups = Counter(
        '.'.join(k.split('.')[:3]) if k.startswith('target_net') else k.split('.')[0]
        for k in state
    )
    lines = [f'{len(state)} tensors written to {dst}:']
    lines += [f'  {group + ".*":<40}{count:>5}' for group, count in groups.items()]
    return state, lines
