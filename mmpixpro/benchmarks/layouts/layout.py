"""What a checkpoint layout is, and how a checkpoint is recognised by it.

A layout says where a project's file keeps the backbone and what its names
are:

- ``container``: the top-level entry holding the tensors (``'state_dict'``,
  ``'model'``), or None when the file is the state dict itself;
- ``backbone``: the prefix of the backbone's tensors in it (after DDP's
  ``module.``, dropped from every name that has it);
- ``rename``: ``(regex, replacement)`` pairs applied in order to the rest of
  the name; what then matches ``keep`` is the backbone, in our names
  (mmdet's / mmseg's / mmpretrain's ``ResNet``, i.e. torchvision's names),
  and is loaded as ``backbone.<name>``;
- ``requires`` / ``excludes``: prefixes that must be present / absent, which
  tell apart layouts with the same container and backbone prefix;
- ``parts``: ``(prefix, what it is)`` of the tensors that are not loaded
  (momentum copies, projection heads, queues), named in the report;
- ``fresh``: regexes of model tensors that the layout lacks by design and
  that start fresh when missing: the stage output norms of a dense Swin /
  ConvNeXt (``backbone.norm0`` - ``norm3``), of which a classifier holds one
  or none (:data:`OUTPUT_NORMS`), as when mmdet / mmseg load such a file
  themselves.

A file is in a layout when the layout's container holds tensors (or numpy
arrays) of which at least one becomes a backbone tensor, with ``requires``
present and ``excludes`` absent. A ``whole`` layout (this project's own
pre-training checkpoints) is loaded as it is, the transfer rules choosing
which of its modules go where.
"""

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from ..transfer import TransferError

# torchvision's ResNet names (= mmdet / mmseg / mmpretrain ``ResNet``'s)
RESNET_KEYS = r'^(conv1|bn1|layer[1-4])\.'
#: The stage output norms of a dense Swin / ConvNeXt (none in a ResNet).
OUTPUT_NORMS = r'^backbone\.norm\d+\.'


class LayoutError(TransferError):
    """A checkpoint in no known layout, or in two at once."""


@dataclass
class Recognised:
    """A checkpoint in our names: ``state`` (``backbone.*``, or the whole
    state dict of our own checkpoints), the layout's ``name`` and
    ``source`` (where the layout was read), ``notes`` naming what was not
    loaded, and the layout's ``fresh`` patterns."""

    state: 'OrderedDict[str, torch.Tensor]'
    name: str
    source: str
    notes: List[str] = field(default_factory=list)
    fresh: Tuple[str, ...] = ()


def _is_weight(value: Any) -> bool:
    return isinstance(value, torch.Tensor) or (
        isinstance(value, np.ndarray) and value.dtype.kind in 'fiub'
    )


def _as_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.from_numpy(np.array(value, copy=True))


def _starts(keys, prefix: str) -> bool:
    return any(k.startswith(prefix) for k in keys)


def _count_groups(keys) -> str:
    """``'a.* (3), b (1)'``: the names grouped by their first component."""
    groups: Dict[str, int] = OrderedDict()
    for key in keys:
        head = key.split('.')[0] + ('.*' if '.' in key else '')
        groups[head] = groups.get(head, 0) + 1
    return ', '.join(f'{g} ({n})' for g, n in groups.items())


@dataclass(frozen=True)
class Layout:
    """One project's checkpoint layout (see the module docstring)."""

    name: str
    source: str
    container: Optional[str]
    backbone: str = ''
    rename: Tuple[Tuple[str, str], ...] = ()
    keep: str = RESNET_KEYS
    requires: Tuple[str, ...] = ()
    excludes: Tuple[str, ...] = ()
    parts: Tuple[Tuple[str, str], ...] = ()
    author: Optional[str] = None
    whole: bool = False
    fresh: Tuple[str, ...] = ()

    def tensors(self, ckpt: Any) -> Optional['OrderedDict[str, Any]']:
        """The weights in the container (DDP's ``module.`` dropped), or
        None when the file has no such container."""
        if not isinstance(ckpt, Mapping):
            return None
        held = ckpt if self.container is None else ckpt.get(self.container)
        if not isinstance(held, Mapping):
            return None
        weights: 'OrderedDict[str, Any]' = OrderedDict()
        for key, value in held.items():
            if isinstance(key, str) and _is_weight(value):
                bare = key[len('module.') :] if key.startswith('module.') else key
                weights[key if bare in held else bare] = value
        return weights

    def backbone_name(self, key: str) -> Optional[str]:
        """Our name (without ``backbone.``) of a tensor of the file, or
        None when it is not a backbone tensor of this layout."""
        if not key.startswith(self.backbone):
            return None
        name = key[len(self.backbone) :]
        for pattern, replacement in self.rename:
            name = re.sub(pattern, replacement, name)
        return name if re.match(self.keep, name) else None

    def matches(self, ckpt: Any) -> bool:
        weights = self.tensors(ckpt)
        if not weights:
            return False
        keys = list(weights)
        return (
            all(_starts(keys, p) for p in self.requires)
            and not any(_starts(keys, p) for p in self.excludes)
            and any(self.backbone_name(k) is not None for k in keys)
        )

    def convert(self, ckpt: Mapping) -> Recognised:
        """The backbone in our names, and notes on what is left out."""
        weights = self.tensors(ckpt)
        assert weights is not None
        name = self.name
        author = ckpt.get(self.author) if self.author else None
        if isinstance(author, str) and author:
            name = f'{name}, written by {author!r}'
        if self.whole:
            state = OrderedDict((k, _as_tensor(v)) for k, v in weights.items())
            return Recognised(state, name, self.source, fresh=self.fresh)
        state: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        left = []
        for key, value in weights.items():
            ours = self.backbone_name(key)
            if ours is None:
                left.append(key)
            else:
                state['backbone.' + ours] = _as_tensor(value)
        notes = []
        for prefix, what in self.parts:
            part = [k for k in left if k.startswith(prefix)]
            if part:
                notes.append(f'{prefix}* ({what}, {len(part)} tensors) not loaded')
                left = [k for k in left if not k.startswith(prefix)]
        if left:
            notes.append(f'other tensors not loaded: {_count_groups(left)}')
        return Recognised(state, name, self.source, notes, self.fresh)


def first_keys(ckpt: Any, count: int = 4) -> str:
    """The first names of a file, for a person: its top-level keys and those
    of the first mapping among them."""
    if not isinstance(ckpt, Mapping):
        return f'a {type(ckpt).__name__}, not a mapping'

    def some(keys) -> str:
        keys = [str(k) for k in keys]
        return ', '.join(keys[:count]) + (', ...' if len(keys) > count else '')

    text = f'[{some(ckpt)}]'
    for key, value in ckpt.items():
        if isinstance(value, Mapping) and value:
            text += f'; {key}: [{some(value)}]'
            break
    return text


def recognise(ckpt: Any, layouts, source: str = 'the checkpoint') -> Recognised:
    """The one layout of ``layouts`` that ``ckpt`` is in, applied.

    Raises:
        LayoutError: ``ckpt`` is in none of them (naming those tried and its
            first keys), or in two or more (naming them).
    """
    found = [layout for layout in layouts if layout.matches(ckpt)]
    if not found:
        tried = '; '.join(layout.name for layout in layouts)
        raise LayoutError(
            f'{source} is in no checkpoint layout known here (tried: {tried}); '
            f'its first keys: {first_keys(ckpt)}'
        )
    if len(found) > 1:
        names = ' and '.join(layout.name for layout in found)
        raise LayoutError(
            f'{source} is two checkpoint layouts at once ({names}): which tensors '
            'are the backbone is not clear; keep one of them in the file'
        )
    return found[0].convert(ckpt)
