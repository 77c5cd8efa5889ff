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
and a key outside this table is an error, not dropped.
:func:`import_official_checkpoint` writes the converted file.
"""

import argparse
import os
import os.path as osp
import re
from collections import Counter, OrderedDict
from typing import Dict, List, Tuple

import torch


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


def convert_state_dict(model: Dict[str, torch.Tensor]) -> 'OrderedDict':
    """The release's model state dict (with or without DDP's ``module.``)
    in our names; raises :class:`OfficialCheckpointError` on a key outside
    the table of this module."""
    if not any(k.startswith(('module.encoder.', 'encoder.')) for k in model):
        raise OfficialCheckpointError(
            "no 'module.encoder.*' tensors: not a checkpoint of the PixPro release"
        )
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    unknown = []
    for key, value in model.items():
        name = key[len('module.') :] if key.startswith('module.') else key
        try:
            converted[_rename(name)] = value
        except KeyError:
            unknown.append(key)
    if unknown:
        raise OfficialCheckpointError(
            f'{len(unknown)} tensors have no counterpart here: {unknown[:10]}'
        )
    return converted


def load_official_checkpoint(path: str) -> Tuple[dict, dict]:
    """``(model state dict, meta)`` of a release checkpoint.

    Loaded with ``weights_only=True`` and exactly one extra type allowed,
    ``argparse.Namespace`` (the saved options): tensors, numbers, strings
    and containers load, anything else (pickled code) is refused. ``meta``
    holds the epoch and the saved options (plain values only).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} not found')
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # a pickled payload, or not a torch file
        raise OfficialCheckpointError(f'cannot load {path!r} safely: {e}') from e
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


def import_official_checkpoint(src: str, dst: str) -> Tuple['OrderedDict', List[str]]:
    """Convert the release checkpoint ``src`` and write ``{'meta',
    'state_dict'}`` in our names to ``dst``.

    Returns:
        The converted state dict, and lines that count its tensors per module.
    """
    model, meta = load_official_checkpoint(src)
    state = convert_state_dict(model)
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': state}, dst)
    groups = Counter(
        '.'.join(k.split('.')[:3]) if k.startswith('target_net') else k.split('.')[0]
        for k in state
    )
    lines = [f'{len(state)} tensors written to {dst}:']
    lines += [f'  {group + ".*":<40}{count:>5}' for group, count in groups.items()]
    return state, lines
