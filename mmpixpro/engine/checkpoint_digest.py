"""A SHA-256 digest of the tensors of a checkpoint, written with it and
checked when it is read.

torch's zip reader does not check the CRC of its records: a checkpoint with
bytes changed inside a tensor's data (a bad disk block, a copy that went
wrong) loads, and the run continues with one changed tensor. The digest
names every tensor of the checkpoint by its place in it and covers what the
tensor is::

    SHA-256( for each tensor t at place p, in the checkpoint's order:
             p, dtype(t), shape(t), the bytes of t )

so a changed byte, a tensor moved to another name, reshaped or retyped,
and a tensor added or removed all give another digest. It is stored as
``meta['tensor_sha256']`` (text: itself not covered). Checkpoints without it
(written by others, or before it existed) load as before.
"""

import hashlib
from typing import Any, Iterator, Optional, Tuple

import torch

DIGEST_KEY = 'tensor_sha256'


def checkpoint_tensors(
    node: Any, place: str = ''
) -> Iterator[Tuple[str, torch.Tensor]]:
    """``(place, tensor)`` of every tensor inside ``node`` (dicts in their
    order, lists and tuples by index)."""
    if isinstance(node, torch.Tensor):
        yield place, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from checkpoint_tensors(value, f'{place}/{key!r}')
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from checkpoint_tensors(value, f'{place}/{index}')


def tensor_digest(checkpoint: Any) -> str:
    """The SHA-256 (hex) of the tensors of ``checkpoint`` (see the module
    docstring). Tensors on a GPU are copied to the CPU one at a time."""
    sha = hashlib.sha256()
    for place, tensor in checkpoint_tensors(checkpoint):
        tensor = tensor.detach()
        sha.update(f'{place}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        if tensor.layout != torch.strided:  # sparse, ...: their dense values
            tensor = tensor.to_dense()
        data = tensor.cpu().contiguous().reshape(-1).view(torch.uint8)
        sha.update(memoryview(data.numpy()))
    return sha.hexdigest()


def add_digest(checkpoint: dict) -> str:
    """Write the digest of ``checkpoint``'s tensors into its ``meta`` (made
    if missing); returns it."""
    digest = tensor_digest(checkpoint)
    checkpoint.setdefault('meta', {})[DIGEST_KEY] = digest
    return digest


def written_digest(checkpoint: Any) -> Optional[str]:
    """The digest ``checkpoint`` was written with, if any."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    digest = meta.get(DIGEST_KEY) if isinstance(meta, dict) else None
    return digest if isinstance(digest, str) else None


def digest_problem(checkpoint: Any) -> Optional[str]:
    """Why the tensors of ``checkpoint`` are not the ones it was written
    with; ``None`` when they are, or when it carries no digest."""
    written = written_digest(checkpoint)
    if written is None or tensor_digest(checkpoint) == written:
        return None
    return (
        f'its tensors do not match the SHA-256 digest it was written with '
        f"(meta['{DIGEST_KEY}']): the file was changed or damaged after it "
        'was written'
    )
