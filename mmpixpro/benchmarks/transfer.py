"""Load a PixPro checkpoint into a downstream model, and say what was loaded.

A rule maps a prefix of the downstream model's state dict onto a prefix of
the checkpoint's, e.g. ``backbone.`` -> ``backbone.`` (detectors, segmentors)
or ``roi_head.shared_head.layer4.`` -> ``backbone.layer4.`` (C4 detectors).
Names are otherwise unchanged: no conversion.
"""

import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from mmpixpro.utils.checkpoint import load_error_reason, load_mapped


class TransferError(RuntimeError):
    """The checkpoint cannot initialise the downstream model as configured."""


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a checkpoint file (mmengine's ``state_dict`` or flat).

    Loaded with ``weights_only=True``; a file in torch's zip format is
    memory-mapped, so that reading its names (which checkpoint is it?) does
    not read its tensors.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pre-trained checkpoint {path!r} not found')
    import mmpixpro  # noqa: F401  (allows the types of Runner checkpoints)

    try:
        ckpt = load_mapped(path)
    except Exception as e:  # corrupt file, or a pickled payload
        raise TransferError(f'cannot load {path!r}: {load_error_reason(e)}') from e
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise TransferError(f'{path!r} holds no state dict of tensors')
    return state


def transfer_weights(
    model: nn.Module,
    checkpoint: str,
    rules: Sequence[dict],
    fresh: Sequence[str] = (),
) -> dict:
    """Copy checkpoint tensors into ``model`` following ``rules``.

    Args:
        model (nn.Module): The downstream model (unwrapped).
        checkpoint (str): Path of a checkpoint written by our pre-training.
        rules (Sequence[dict]): Each ``dict(model='neck.', checkpoint='neck.',
            required=False)``. For a rule whose checkpoint prefix holds any
            tensor, every model tensor under its model prefix must be found
            there with the same shape, unless it matches ``fresh``. A
            ``required`` rule must find tensors. A checkpoint prefix that
            holds tensors which do not fit stops the run (an FCOS FPN in
            Mask R-CNN) rather than loading part of a module.
        fresh (Sequence[str]): Regexes (``re.search`` on the full model key)
            of tensors that are expected to start fresh under a rule's prefix
            (prediction layers).

    Returns:
        dict: The report: per top-level module, the loaded and the fresh
        tensor names; the checkpoint path; the rules; notes naming what
        starts fresh under a rule (a module the checkpoint lacks, layers
        excused by ``fresh``).

    Raises:
        FileNotFoundError, TransferError: before anything is copied.
    """
    state = load_state_dict_file(checkpoint)
    own = model.state_dict()
    fresh_re = [re.compile(p) for p in fresh]
    updates: Dict[str, torch.Tensor] = OrderedDict()
    problems: List[str] = []
    notes: List[str] = []
    for rule in rules:
        m_prefix, c_prefix = rule['model'], rule['checkpoint']
        source = {
            k[len(c_prefix) :]: v for k, v in state.items() if k.startswith(c_prefix)
        }
        targets = [k for k in own if k.startswith(m_prefix)]
        if not targets:
            problems.append(f'the model has no tensor under {m_prefix!r}')
            continue
        if not source:
            if rule.get('required', False):
                problems.append(
                    f'the checkpoint has no {c_prefix!r} tensors: it is not a '
                    'PixPro pre-training checkpoint (or not of this model)'
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
                else:
                    misfits.append(f'{key} is missing from the checkpoint')
            elif src.shape != own[key].shape:
                misfits.append(
                    f'{key}: checkpoint shape {tuple(src.shape)} != model '
                    f'shape {tuple(own[key].shape)}'
                )
            else:
                updates[key] = src
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
        raise TransferError(f'{checkpoint!r} does not fit the model:\n  {shown}{more}')
    missing, unexpected = model.load_state_dict(updates, strict=False)
    assert not unexpected, unexpected  # keys come from the model's own
    report = OrderedDict()
    for key in own:
        module = key.split('.')[0]
        entry = report.setdefault(module, dict(loaded=[], fresh=[]))
        entry['loaded' if key in updates else 'fresh'].append(key)
    return dict(checkpoint=checkpoint, rules=list(rules), notes=notes, modules=report)


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
    prefixes = tuple(rule['model'] for rule in rules)
    fresh_re = [re.compile(p) for p in fresh]
    return any(
        key in state
        and (not key.startswith(prefixes) or any(p.search(key) for p in fresh_re))
        for key in model_keys
    )


def format_report(report: dict) -> str:
    """A table: per module, loaded / fresh tensors and the fresh layers."""
    lines = [
        f'Pre-trained weights from {report["checkpoint"]}',
        f'{"module":<14}{"loaded":>8}{"fresh":>8}  fresh layers',
    ]
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
