"""Count, log and limit the images that could not be read, over all ranks."""

from typing import List, Set

import torch
from mmengine.dist import all_gather_object, all_reduce, get_world_size
from mmengine.hooks import Hook

from mmpixpro.engine.run_failure import UnreadableImagesError
from mmpixpro.registry import HOOKS

#: The message hub's runtime-info key (saved in checkpoints) of the set.
INFO_KEY = 'unreadable_images'


def gather_new_paths(new: Set[str]) -> Set[str]:
    """The union of every rank's ``new`` paths, on every rank.

    One ``all_reduce`` of a count each iteration; the paths themselves are
    gathered only in the (rare) iterations where some rank has any.
    """
    if get_world_size() == 1:
        return set(new)
    count = torch.tensor([len(new)], dtype=torch.int64)
    all_reduce(count)
    if int(count) == 0:
        return set()
    gathered: List[List[str]] = all_gather_object(sorted(new))
    return {path for paths in gathered for path in paths}


@HOOKS.register_module()
class UnreadableImageHook(Hook):
    """Log every unreadable image once, stop when there are too many.

    Reads the ``skipped_images`` that :class:`ImageFolder` attaches to a
    sample when it had to draw another image. Under DDP each process sees
    its share of the data: the ranks gather their new paths every iteration,
    so every rank holds the same set of unreadable images of the whole run,
    the limit applies to that total (not to one rank's count), rank 0 logs
    each path once, and all ranks stop in the same iteration.

    The set is saved with every checkpoint (the message hub's runtime info,
    key ``unreadable_images``) and restored on resume: the limit counts the
    whole run, not only since its latest start. A file whose decoder crashed
    a dataloader worker joins it too (:meth:`count_crash`).

    Args:
        max_fraction (float): Stop training with an error once more than this
            fraction of the dataset was unreadable. Defaults to 0.01.
    """

    priority = 'HIGH'

    def __init__(self, max_fraction: float = 0.01) -> None:
        if not 0 <= max_fraction <= 1:
            raise ValueError(f'max_fraction must be in [0, 1], got {max_fraction}')
        self.max_fraction = max_fraction
        self.skipped: Set[str] = set()

    def before_train(self, runner) -> None:
        """The unreadable images of the run so far: none on a fresh start,
        those of the checkpoint on resume (loaded before this hook runs)."""
        self.skipped = set(runner.message_hub.get_info(INFO_KEY) or ())

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        new = set()
        samples = (data_batch or {}).get('data_samples') or []
        for sample in samples:
            new.update(getattr(sample, 'metainfo', {}).get('skipped_images', []))
        new = gather_new_paths(new - self.skipped) - self.skipped
        if not new:
            return
        self._add(runner, new)
        total = len(runner.train_dataloader.dataset)
        world = get_world_size()
        ranks = '' if world == 1 else f' (over the {world} ranks)'
        if runner.rank == 0:
            for path in sorted(new):
                runner.logger.warning(f'unreadable image skipped: {path}')
            runner.logger.warning(
                f'{len(self.skipped)} of {total} images unreadable so far{ranks}'
            )
        if len(self.skipped) > self.max_fraction * total:
            raise UnreadableImagesError(
                f'{len(self.skipped)} of {total} images are unreadable, more than '
                f'max_fraction={self.max_fraction}{ranks}: check the data '
                f'(e.g. {sorted(self.skipped)[:5]}) or raise '
                'default_hooks.unreadable_images.max_fraction'
            )

    def count_crash(self, runner, path: str) -> str:
        """Count ``path``, whose decoder crashed a dataloader worker of this
        rank; returns ``'{n} of {total} images unreadable so far'``."""
        self._add(runner, {path})
        total = len(runner.train_dataloader.dataset)
        return f'{len(self.skipped)} of {total} images unreadable so far'

    def _add(self, runner, paths: Set[str]) -> None:
        """Add ``paths``, kept for the next checkpoint."""
        self.skipped |= paths
        runner.message_hub.update_info(INFO_KEY, sorted(self.skipped))
