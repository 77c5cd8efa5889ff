"""Reading checkpoints as data: one-line errors, and what of a loaded
checkpoint mmengine would run or our model would not fit.

What it guarantees: a checkpoint that is not read is refused as
:class:`CheckpointError`, ``cannot load SOURCE: REASON`` in one line (a
refused pickle names the global it holds, without running it); the fields
mmengine would parse as Python source are removed before a resume
(:func:`drop_code_fields`); a state dict that does not fit a model is
summarised by names and shapes (:func:`state_dict_mismatches`).

The reader itself (local files, URLs, ``weights_only=True``, the digest) is
:func:`mmpixpro.engine.checkpoint_reader.read_checkpoint`.
"""

import re
from typing import List


class CheckpointError(RuntimeError):
    """A checkpoint that is not read, in one line: ``cannot load SOURCE:
    REASON``. ``kind`` names what went wrong (the error torch raised, or
    ``'digest mismatch'``) for messages that list several files."""

    def __init__(self, source: str, reason: str, kind: str = 'CheckpointError'):
        self.source, self.reason, self.kind = source, reason, kind
        super().__init__(f'cannot load {source}: {reason}')

    def __reduce__(self):
        return type(self), (self.source, self.reason, self.kind)


# Parts of a checkpoint that mmengine would parse as Python source (and so
# run): ``Runner.resume`` reads ``meta['config']`` with
# ``Config.fromstring(..., '.py')`` to compare GPU counts.
CODE_FIELDS = ('config',)


def drop_code_fields(checkpoint: object) -> List[str]:
    """Remove from ``checkpoint['meta']`` what mmengine's ``Runner.resume``
    would execute; returns the removed keys. (mmengine also writes the run's
    config as Python text, ``meta['cfg']`` and
    ``message_hub['runtime_info']['cfg']``: mmpixpro never parses it, but
    other tools do, e.g. mmdet's ``DetInferencer(model=None, weights=...)``:
    give them checkpoints you trust.)"""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict):
        return []
    return [key for key in CODE_FIELDS if meta.pop(key, None) is not None]


def load_error_reason(error: BaseException) -> str:
    """One line saying why ``torch.load`` failed, for a person: the blocked
    global of a refused pickle, an empty or truncated file, ..."""
    text = str(error)
    blocked = re.search(r'GLOBAL ([\w.]+)', text)
    if blocked:
        return (
            f'it holds {blocked.group(1)}, which is code, not data: refused '
            'without running it. Checkpoints written by mmpixpro hold no '
            'such thing; do not load a file you do not trust with '
            'weights_only=False'
        )
    if isinstance(error, EOFError) or 'Ran out of input' in text:
        return 'the file ends before its data does (empty or truncated)'
    if 'central directory' in text or 'zip archive' in text:
        return 'not a complete PyTorch file (truncated or damaged)'
    if 'invalid load key' in text:
        return 'not a PyTorch checkpoint (unknown contents)'
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else type(error).__name__


def state_dict_mismatches(model, checkpoint: dict, revise_keys=()) -> str:
    """What of ``checkpoint`` (or its ``state_dict``) does not fit ``model``:
    ``''`` when every tensor name and shape matches, else a summary such as
    ``'3 shapes differ: backbone.conv1.weight (64, 3, 7, 7) != (64, 3, 3, 3)
    ...; 12 missing: ...; 5 unexpected: ...'`` (a few names of each)."""
    state = checkpoint.get('state_dict', checkpoint)
    for pattern, replacement in revise_keys:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    own = model.state_dict()
    shapes = [
        f'{k} {tuple(state[k].shape)} != {tuple(v.shape)}'
        for k, v in own.items()
        if k in state and hasattr(state[k], 'shape') and state[k].shape != v.shape
    ]
    # a module's extra state (PixelHead's recorded bound) is its own to
    # require or not: checkpoints written before it existed load
    missing = [
        k
        for k in own
        if k not in state
        and 'num_batches_tracked' not in k
        and k.rsplit('.', 1)[-1] != '_extra_state'
    ]
    unexpected = [k for k in state if k not in own]
    parts = []
    for what, items in (
        ('shapes differ', shapes),
        ('missing', missing),
        ('unexpected', unexpected),
    ):
        if items:
            more = ', ...' if len(items) > 3 else ''
            parts.append(f'{len(items)} {what}: {", ".join(items[:3])}{more}')
    return '; '.join(parts)
