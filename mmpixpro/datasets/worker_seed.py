"""Dataloader worker seeds that change with the epoch.

mmengine seeds worker ``w`` of rank ``r`` with ``seed + num_workers * r +
w``, the same every epoch. With ``persistent_workers=False`` the workers are
started afresh each epoch, so each would replay the first epoch's random
stream: the same crops, flips and colour changes, only on other images.
Here the epoch is part of the seed::

    s = SeedSequence([seed, epoch, rank, worker]).generate_state(4)

(numpy's hash of the four numbers into independent 32-bit words): every
(epoch, rank, worker) draws its own stream, and an epoch trained again
after a resume draws the same one, so resume stays exact.
"""

import random
import warnings

import numpy as np
import torch


def worker_seed_state(seed: int, epoch: int, rank: int, worker_id: int) -> np.ndarray:
    """Four 32-bit words seeding one worker of one rank in one epoch."""
    entropy = [int(seed) % (1 << 32), int(epoch), int(rank), int(worker_id)]
    return np.random.SeedSequence(entropy).generate_state(4)


def epoch_worker_init_fn(
    worker_id: int,
    num_workers: int,
    rank: int,
    seed: int,
    epoch: int,
    disable_subprocess_warning: bool = False,
) -> None:
    """``worker_init_fn`` of a dataloader: seed numpy, ``random`` and torch
    in the worker from :func:`worker_seed_state`.

    Takes mmengine's ``worker_init_fn`` arguments plus ``epoch``
    (``num_workers`` is kept for that signature; the state does not need it).
    """
    state = worker_seed_state(seed, epoch, rank, worker_id)
    np.random.seed(state)
    random.seed(int.from_bytes(state.tobytes(), 'little'))
    torch.manual_seed(int(state[0]) << 32 | int(state[1]))
    if disable_subprocess_warning and worker_id != 0:
        warnings.simplefilter('ignore')
