"""Count, log and limit the images that could not be read."""

from typing import Set

from mmengine.hooks import Hook

from mmpixpro.registry import HOOKS


@HOOKS.register_module()
class UnreadableImageHook(Hook):
    """Log every unreadable image once, stop when there are too many.

    Reads the ``skipped_images`` that :class:`ImageFolder` attaches to a
    sample when it had to draw another image (under DDP each process counts
    what it saw).

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

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ) -> None:
        if not data_batch or 'data_samples' not in data_batch:
            return
        new = set()
        for sample in data_batch['data_samples'] or []:
            new.update(getattr(sample, 'metainfo', {}).get('skipped_images', []))
        new -= self.skipped
        if not new:
            return
        self.skipped |= new
        total = len(runner.train_dataloader.dataset)
        for path in sorted(new):
            runner.logger.warning(f'unreadable image skipped: {path}')
        runner.logger.warning(
            f'{len(self.skipped)} of {total} images unreadable so far'
        )
        if len(self.skipped) > self.max_fraction * total:
            raise RuntimeError(
                f'{len(self.skipped)} of {total} images are unreadable, more than '
                f'max_fraction={self.max_fraction}: check the data '
                f'(e.g. {sorted(self.skipped)[:5]})'
            )
