"""Random draws of the model that a resume repeats: torch seeded per
iteration."""

import numpy as np
import torch
from mmengine.hooks import Hook

from mmpixpro.registry import HOOKS

#: In the place of the worker id of the dataloader workers' seeds
#: (``(seed, epoch, rank, worker)``, mmpixpro.datasets.worker_seed): a worker
#: id no dataloader has, so that no worker draws an iteration's stream.
STREAM = (1 << 32) - 1


def iter_seed(seed: int, iteration: int, rank: int) -> int:
    """A 64-bit seed for one iteration of one rank: numpy's hash of
    ``(seed, iteration, rank, STREAM)`` (``SeedSequence``)."""
    entropy = [int(seed) % (1 << 32), int(iteration), int(rank), STREAM]
    words = np.random.SeedSequence(entropy).generate_state(2)
    return int(words[0]) << 32 | int(words[1])


@HOOKS.register_module()
class IterSeedHook(Hook):
    """Before each training iteration, seed torch's generators (the CPU's and
    every GPU's) with :func:`iter_seed` of the run's seed, the iteration and
    the rank.

    Stochastic depth (the ``DropPath`` layers of Swin and ConvNeXt) draws its
    masks from torch's generator in the training process. mmengine seeds it
    once when a run starts, so a resumed run would draw other masks than the
    run it continues; seeded per iteration, the masks depend on the
    iteration only, and a resume is exact. Each rank draws its own masks.
    Models that draw nothing (ResNet PixPro) are not changed by it.
    """

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        seed = runner.seed if runner.seed is not None else 0
        torch.manual_seed(iter_seed(seed, runner.iter, runner.rank))
