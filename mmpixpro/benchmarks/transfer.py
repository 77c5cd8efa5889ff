"""Load a pre-trained checkpoint into a downstream model, and say what was
loaded.

The checkpoint is read as data (:func:`read_checkpoint`) and recognised from
its contents (:mod:`.layouts`: ours, OpenMMLab's, torchvision's, timm's,
the releases of MoCo, DenseCL, SoCo, SlotCon, PyContrast, PixPro, Swin
Transformer and MoBY, detectron2's ``.pkl``, safetensors files), which
gives its backbone as ``backbone.*`` in our names. A rule then maps a
prefix of the downstream model's state dict onto a prefix of those
tensors, e.g. ``backbone.`` -> ``backbone.`` (detectors,
segmentors) or ``roi_head.shared_head.layer4.`` -> ``backbone.layer4.`` (C4
detectors).
"""

import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence

import torch
from torch import nn

from mmpixpro.engine import checkpoint_reader
from mmpixpro.engine.checkpoint_checks import CheckpointError, load_error_reason
from mmpixpro.engine.checkpoint_download import fetch, is_remote
from mmpixpro.utils.numpy_pickle import TORCH_LEGACY_MAGIC, load_numpy_pickle


class TransferError(RuntimeError):
    """The checkpoint cannot initialise the downstream model as configured."""


def read_checkpoint(path: str) -> object:
    """What a checkpoint holds, read as data: a file, a URL or an mmengine
    ``scheme://`` name (downloaded into the cache first).

    A PyTorch file is read by mmpixpro's reader
    (:func:`~mmpixpro.engine.checkpoint_reader.read_checkpoint`:
    ``weights_only=True``, the tensor digest checked) with the types that
    releases save beside the weights allowed
    (:data:`~.layouts.ALLOWED_TYPES`: ``argparse.Namespace``, MoBY's yacs
    config read as a dict); one in torch's zip format is memory-mapped, so
    that its tensors are not copied. A safetensors file (timm's and the
    Hugging Face hub's format: a JSON header, then raw tensors, no code) is
    read by the ``safetensors`` package. A plain pickle (detectron2's
    ``.pkl``) is read by
    :func:`~mmpixpro.utils.numpy_pickle.load_numpy_pickle`: numpy arrays and
    plain containers only.

    Raises:
        FileNotFoundError: No such file.
        TransferError: The file cannot be read, names code (refused without
            running it) or does not match its digest: one line.
    """
    if not is_remote(path) and not osp.isfile(path):
        raise FileNotFoundError(f'pre-trained checkpoint {path!r} not found')
    from .layouts import ALLOWED_TYPES  # the layouts import TransferError

    try:
        local, _ = fetch(path)
        with open(local, 'rb') as f:
            head = f.read(9)
            if is_safetensors(head, osp.getsize(local)):
                return read_safetensors(local)
            if head[:4] != b'PK\x03\x04':  # not torch's zip format
                f.seek(0)
                first = load_numpy_pickle(f)
                if not (isinstance(first, int) and first == TORCH_LEGACY_MAGIC):
                    return first  # a plain pickle
        return checkpoint_reader.read_checkpoint(
            path, mmap=True, allow=list(ALLOWED_TYPES)
        )
    except TransferError:
        raise
    except CheckpointError as e:
        raise TransferError(f'cannot load {path!r}: {e.reason}') from None
    except Exception as e:  # not a pickle, or a plain pickle naming code
        raise TransferError(f'cannot load {path!r}: {load_error_reason(e)}') from None


def is_safetensors(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes that starts with ``head`` (its
    first 9 bytes) is a safetensors file: the length of its JSON header
    (8 bytes, little-endian) within the file, then the header's ``{``."""
    if len(head) < 9 or head[8:9] != b'{':
        return False
    return 8 + int.from_bytes(head[:8], 'little') <= size


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of the safetensors file ``path`` (a flat state dict)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise TransferError(
            f'{path!r} is a safetensors file: reading it needs the safetensors '
            'package (pip install safetensors)'
        ) from None
    return load_file(path)


def model_state(ckpt: object) -> Optional[Dict[str, torch.Tensor]]:
    """The state dict of a loaded checkpoint, in the names it was saved with
    (mmengine's ``state_dict``, or the file itself), when it is one of
    tensors; else None."""
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, Mapping) else None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        return None
    return state


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a checkpoint file (mmengine's ``state_dict`` or flat),
    in the names they were saved with (:func:`read_checkpoint`)."""
    state = model_state(read_checkpoint(path))
    if state is None:
        raise TransferError(f'{path!r} holds no state dict of tensors')
    return state


def load_pretrained(path: str):
    """The checkpoint file ``path`` in our names (a
    :class:`~.layouts.Recognised`: ``state``, the layout's ``name``,
    ``notes``).

    Raises:
        FileNotFoundError, TransferError: :func:`read_checkpoint`'s.
        LayoutError: The file is in no known layout, or in two.
    """
    from .layouts import recognise  # the layouts import TransferError

    return recognise(read_checkpoint(path), repr(path))


def transfer_weights(
    model: nn.Module,
    checkpoint: str,
    rules: Sequence[dict],
    fresh: Sequence[str] = (),
) -> dict:
    """Copy checkpoint tensors into ``model`` following ``rules``.

    Args:
        model (nn.Module): The downstream model (unwrapped).
        checkpoint (str): Path of a pre-trained checkpoint in any layout of
            :mod:`.layouts` (ours, OpenMMLab's, torchvision's, a release's,
            detectron2's ``.pkl``).
        rules (Sequence[dict]): Each ``dict(model='neck.', checkpoint='neck.',
            required=False)``. For a rule whose checkpoint prefix holds any
            tensor, every model tensor under its model prefix must be found
            there with the same shape, unless it matches ``fresh``. A
            ``required`` rule must find tensors. A checkpoint prefix that
            holds tensors which do not fit stops the run (an FCOS FPN in
            Mask R-CNN) rather than loading part of a module. A BN layer's
            ``num_batches_tracked`` counter that the file lacks (weights saved
            before PyTorch 0.4.1, detectron2 files) keeps the model's own.
        fresh (Sequence[str]): Regexes (``re.search`` on the full model key)
            of tensors that are expected to start fresh under a rule's prefix
            (prediction layers); the checkpoint's layout adds those it lacks
            by design (the stage output norms of a Swin / ConvNeXt that a
            classifier has not: ``Layout.fresh``).

    Returns:
        dict: The report: per top-level module, the loaded and the fresh
        tensor names; the checkpoint path, its layout and where that layout
        was read; the rules; notes naming what starts fresh under a rule (a
        module the checkpoint lacks, layers excused by ``fresh``) and what
        of the file is not loaded (momentum copies, heads).

    Raises:
        FileNotFoundError, TransferError: before anything is copied
            (:class:`~.layouts.LayoutError`: no known layout, or two).
    """
    recognised = load_pretrained(checkpoint)
    state = recognised.state
    own = model.state_dict()
    fresh_re = [re.compile(p) for p in [*fresh, *recognised.fresh]]
    updates: Dict[str, torch.Tensor] = OrderedDict()
    problems: List[str] = []
    notes: List[str] = list(recognised.notes)
    counters: List[str] = []
    offered, taken = set(), set()  # checkpoint names under a rule / loaded
    for rule in rules:
        m_prefix, c_prefix = rule['model'], rule['checkpoint']
        source = {
            k[len(c_prefix) :]: v for k, v in state.items() if k.startswith(c_prefix)
        }
        targets = [k for k in own if k.startswith(m_prefix)]
        offered.update(c_prefix + k for k in source)
        if not targets:
            problems.append(f'the model has no tensor under {m_prefix!r}')
            continue
        if not source:
            if rule.get('required', False):
                problems.append(
                    f'the checkpoint has no {c_prefix!r} tensors: it was not '
                    f"pre-trained with this model's {m_prefix}* (or is cut short)"
                )
            else:
                notes.append(
                    f'{m_prefix}* starts fresh: the checkpoint has no {c_prefix}*'
                )
            continue
        misfits, excused = [], []
        for key in targets:
            src = source.get(key[len(m_prefix) :])
            if src is None:
                if any(p.search(key) for p in fresh_re):
                    excused.append(key)
                elif key.endswith('.num_batches_tracked'):
                    counters.append(key)
                else:
                    misfits.append(f'{key} is missing from the checkpoint')
            elif src.shape != own[key].shape:
                misfits.append(
                    f'{key}: checkpoint shape {tuple(src.shape)} != model '
                    f'shape {tuple(own[key].shape)}'
                )
            else:
                updates[key] = src
                taken.add(c_prefix + key[len(m_prefix) :])
        if misfits and not rule.get('required', False):
            misfits.insert(
                0,
                f"the checkpoint's {c_prefix}* is not this model's {m_prefix}* "
                f'({len(misfits)} of {len(targets)} tensors do not fit; e.g. an '
                'FPN pre-trained for another detector): pre-train with this '
                "model's module, or load only the backbone",
            )
        problems += misfits
        if excused:
            layers = sorted({k.rsplit('.', 1)[0] for k in excused})
            notes.append(
                f'{", ".join(layers)} start fresh: not in the checkpoint '
                f'(under {c_prefix}*, the rest of {m_prefix}* was loaded)'
            )
    if problems:
        shown = '\n  '.join(problems[:20])
        more = f'\n  ... and {len(problems) - 20} more' if len(problems) > 20 else ''
        raise TransferError(
            f'{checkpoint!r} ({recognised.name}) does not fit the model:\n'
            f'  {shown}{more}'
        )
    unused = sorted(offered - taken)
    if unused:
        more = ' ...' if len(unused) > 4 else ''
        notes.append(
            f'{len(unused)} checkpoint tensors have no place in the model and '
            f'are not loaded: {", ".join(unused[:4])}{more}'
        )
    if counters:
        notes.append(
            f'{len(counters)} BN num_batches_tracked counters are not in the '
            'checkpoint: those layers keep their own'
        )
    missing, unexpected = model.load_state_dict(updates, strict=False)
    assert not unexpected, unexpected  # keys come from the model's own
    report = OrderedDict()
    for key in own:
        module = key.split('.')[0]
        entry = report.setdefault(module, dict(loaded=[], fresh=[]))
        entry['loaded' if key in updates else 'fresh'].append(key)
    return dict(
        checkpoint=checkpoint,
        layout=recognised.name,
        layout_source=recognised.source,
        rules=list(rules),
        notes=notes,
        modules=report,
    )


def holds_fresh_tensors(
    state: Dict[str, torch.Tensor],
    model_keys,
    rules: Sequence[dict],
    fresh: Sequence[str] = (),
) -> bool:
    """Whether ``state`` is a checkpoint of the downstream model itself (a
    fine-tuned one) rather than a pre-training one: it holds, by the model's
    own name, a tensor that ``rules`` leave fresh (outside every rule's model
    prefix, e.g. ``rpn_head.*``, ``decode_head.*``, ``head.fc.*``, or
    matching ``fresh``, e.g. ``bbox_head.conv_cls.*``)."""
    return any(key in state for key in fresh_keys(model_keys, rules, fresh))


def fresh_keys(model_keys, rules: Sequence[dict], fresh: Sequence[str] = ()):
    """The model's tensor names that ``rules`` leave fresh: outside every
    rule's model prefix, or matching ``fresh``."""
    prefixes = tuple(rule['model'] for rule in rules)
    fresh_re = [re.compile(p) for p in fresh]
    return [
        key
        for key in model_keys
        if not key.startswith(prefixes) or any(p.search(key) for p in fresh_re)
    ]


def pretraining_error(
    path: str, ckpt: object, model_keys, rules: Sequence[dict], fresh=()
) -> Optional['TransferError']:
    """The error to raise when ``ckpt`` (read from ``path``) is given where
    a fine-tuned model of the config is needed (evaluation) and is a
    pre-training checkpoint: it names its layout and a tensor it lacks.
    None when it is a fine-tuned model of the config, or in no known layout
    (then strict loading says what does not fit)."""
    from .layouts import LayoutError, recognise

    own = model_state(ckpt)
    if own is not None and holds_fresh_tensors(own, model_keys, rules, fresh):
        return None
    try:
        layout = recognise(ckpt, repr(path)).name
    except LayoutError:
        return None
    lacks = fresh_keys(model_keys, rules, fresh)
    detail = f' (it has no {lacks[0]})' if lacks else ''
    return TransferError(
        f'{path!r} is a pre-training checkpoint ({layout}), not a model of this '
        f'config{detail}: fine-tune it (tools/benchmarks/train.py CONFIG '
        'CHECKPOINT) and evaluate a checkpoint written by fine-tuning'
    )


def format_report(report: dict) -> str:
    """A table: per module, loaded / fresh tensors and the fresh layers."""
    lines = [
        f'Pre-trained weights from {report["checkpoint"]}',
        f'{"module":<14}{"loaded":>8}{"fresh":>8}  fresh layers',
    ]
    if report.get('layout'):
        lines.insert(1, f'layout: {report["layout"]} ({report["layout_source"]})')
    for module, entry in report['modules'].items():
        layers = sorted({k.rsplit('.', 1)[0] for k in entry['fresh']})
        shown = ', '.join(layers[:6]) + (' ...' if len(layers) > 6 else '')
        lines.append(
            f'{module:<14}{len(entry["loaded"]):>8}{len(entry["fresh"]):>8}  {shown}'
        )
    lines += [f'note: {n}' for n in report['notes']]
    return '\n'.join(lines)


def find_hook_cfg(cfg, hook_type: str = 'PretrainedTransferHook') -> Optional[dict]:
    """The config's transfer hook entry, if any."""
    for hook in cfg.get('custom_hooks', None) or []:
        if hook.get('type', '').split('.')[-1] == hook_type:
            return hook
    return None
