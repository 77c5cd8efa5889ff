"""Precise BN statistics before each evaluation (detectron2's PreciseBN).

During training a BN layer keeps an exponential moving average of the batch
statistics of ever-changing weights. With the weights fixed, let the layer
see ``K`` batches ``b`` of training data (the model in training mode, its
training forward, no gradient) and set

    running_mean = 1/K * sum_b mu_b,    running_var = 1/K * sum_b var_b

(``var_b`` unbiased, as BN's own ``running_var``), averaged over processes.
The transfer protocol behind the paper's detection numbers does this before
evaluating (``TEST.PRECISE_BN``: 200 iterations of the 16-image batch).
"""

import itertools
from typing import Optional, Tuple

import torch
from mmengine.dataset import DefaultSampler
from mmengine.dist import get_world_size
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmpretrain.engine.hooks import PreciseBNHook
from mmpretrain.engine.hooks.precise_bn_hook import scaled_all_reduce
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from mmpixpro.registry import HOOKS


# mmdet / mmseg / mmpretrain configs name it type='mmpixpro.PreciseBNBeforeEvalHook'.
@HOOKS.register_module()
class PreciseBNBeforeEvalHook(PreciseBNHook):
    """Recompute BN statistics right before every evaluation, and at the end
    of training (so the last checkpoint holds them).

    A subclass, because mmpretrain's ``PreciseBNHook`` stops both mmdet's
    and mmseg's Runners (it reads ``DataLoader.batch_size``, ``None`` under
    mmdet's ``AspectRatioBatchSampler``; it preprocesses training batches in
    test mode, where mmseg's preprocessor refuses crops of unequal size),
    runs on a fixed interval, iterates the training loader itself (a
    persistent-worker loader then restarts the training order) and runs the
    model in ``'tensor'`` mode (a two-stage detector's RoI heads then see all
    proposals, not the sampled ones of training). This one draws its batches
    from a loader of its own over the training dataset (same batch sampler
    type and batch size), preprocesses them as training does and runs the
    ``'loss'`` forward.

    Args:
        num_samples (int): Images over all processes; the number of batches
            is ``num_samples // (batch_size * world_size)`` (at least one, at
            most one pass over the data). Defaults to ``200 * 16``.
    """

    priority = 'ABOVE_NORMAL'  # before CheckpointHook: checkpoints keep them

    def __init__(self, num_samples: int = 200 * 16) -> None:
        super().__init__(num_samples=num_samples, interval=1)
        self._passes = 0

    # -- when ---------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and self._evaluates_after(
            runner, runner.iter + 1, loop.max_iters
        ):
            self._perform_precise_bn(runner)

    def after_train_epoch(self, runner) -> None:
        loop = runner.train_loop
        if isinstance(loop, EpochBasedTrainLoop) and self._evaluates_after(
            runner, runner.epoch + 1, loop.max_epochs
        ):
            self._perform_precise_bn(runner)

    @staticmethod
    def _evaluates_after(runner, done: int, last: int) -> bool:
        """Whether the train loop validates once ``done`` iterations / epochs
        are finished (the loops' own rule), or training ends there."""
        if done >= last:
            return True
        loop = runner.train_loop
        if runner.val_loop is None or done < loop.val_begin:
            return False
        return done % loop.val_interval == 0

    # -- what ---------------------------------------------------------------
    def _loader(self, runner) -> Tuple[DataLoader, int]:
        """A loader of its own over the training dataset: same batch size,
        batch sampler type, workers and collate function; another order at
        each pass."""
        train = runner.train_loop.dataloader
        batch_size = train.batch_size or train.batch_sampler.batch_size
        sampler = DefaultSampler(train.dataset, shuffle=True, seed=runner.seed)
        sampler.set_epoch(self._passes)
        batch_sampler = type(train.batch_sampler)(
            sampler, batch_size=batch_size, drop_last=False
        )
        loader = DataLoader(
            train.dataset,
            batch_sampler=batch_sampler,
            num_workers=train.num_workers,
            collate_fn=train.collate_fn,
            worker_init_fn=train.worker_init_fn,
            pin_memory=train.pin_memory,
        )
        return loader, batch_size

    def _perform_precise_bn(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        layers = [
            m for m in model.modules() if isinstance(m, _BatchNorm) and m.training
        ]
        if not layers:
            runner.logger.warning('Precise BN: no BN layer in training mode')
            return
        loader, batch_size = self._loader(runner)
        world_size = get_world_size()
        num_batches = max(1, self.num_samples // (batch_size * world_size))
        num_batches = min(num_batches, len(loader))
        means, variances = update_bn_stats(model, loader, layers, num_batches)
        means = scaled_all_reduce(means, world_size)
        variances = scaled_all_reduce(variances, world_size)
        for layer, mean, var in zip(layers, means, variances):
            layer.running_mean.copy_(mean)
            layer.running_var.copy_(var)
        self._passes += 1
        runner.logger.info(
            f'Precise BN: statistics of {len(layers)} BN layers averaged over '
            f'{num_batches} batches of {batch_size} x {world_size} images'
        )


@torch.no_grad()
def update_bn_stats(
    model: torch.nn.Module,
    loader,
    layers: list,
    num_batches: int,
    mode: Optional[str] = 'loss',
) -> Tuple[list, list]:
    """Per layer, the mean over ``num_batches`` batches of the batch mean and
    (unbiased) batch variance, from the model's ``mode`` forward in training
    mode. The layers' running statistics are left as the last batch's."""
    means = [torch.zeros_like(layer.running_mean) for layer in layers]
    variances = [torch.zeros_like(layer.running_var) for layer in layers]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:  # running stats := the current batch's
        layer.momentum = 1.0
    try:
        for data in itertools.islice(loader, num_batches):
            model(**model.data_preprocessor(data, True), mode=mode)
            for layer, mean, var in zip(layers, means, variances):
                mean += layer.running_mean / num_batches
                var += layer.running_var / num_batches
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return means, variances
