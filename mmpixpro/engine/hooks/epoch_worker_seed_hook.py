"""New augmentations every epoch: the epoch in the dataloader workers' seeds."""

import functools

from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.hooks import Hook

from mmpixpro.datasets.worker_seed import epoch_worker_init_fn
from mmpixpro.registry import HOOKS


@HOOKS.register_module()
class EpochWorkerSeedHook(Hook):
    """Before each training epoch, seed the dataloader's workers with the
    seed, the epoch, the rank and the worker id
    (:func:`~mmpixpro.datasets.worker_seed.epoch_worker_init_fn`).

    It replaces the ``worker_init_fn`` that mmengine's Runner gives a
    dataloader (same seed, rank and worker terms, no epoch), keeping its
    arguments. The loader's workers read it when they start, i.e. at the
    start of each epoch with ``persistent_workers=False`` (the pre-training
    configs); persistent workers are started once and keep drawing from
    their streams, which need no epoch term. A ``worker_init_fn`` set in the
    config is left alone (logged once).
    """

    def __init__(self) -> None:
        self.warned = False

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_dataloader
        init_fn = getattr(loader, 'worker_init_fn', None)
        if init_fn is None or not getattr(loader, 'num_workers', 0):
            return  # no workers, or no seed: nothing to seed
        func = getattr(init_fn, 'func', None)
        if func not in (mmengine_worker_init_fn, epoch_worker_init_fn):
            if not self.warned:
                self.warned = True
                runner.logger.info(
                    'EpochWorkerSeedHook: the config sets its own '
                    'train_dataloader.worker_init_fn; its seeds are kept'
                )
            return
        kwargs = dict(init_fn.keywords, epoch=runner.epoch)
        loader.worker_init_fn = functools.partial(epoch_worker_init_fn, **kwargs)
